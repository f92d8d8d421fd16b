#!/usr/bin/env bash
# E01 evidence files made by ewfacquire (deflate, split into several
# segments .E01 .E02 ...) of an MBR + ext4 disk, a FAT32 volume and an
# NTFS volume: the map of each E01 equals the map of the raw image it
# was acquired from (the raw image is the oracle: the whole SQLite
# dump, the rows naming the file, its format, its time and the build
# time aside), and is checked against the filesystem oracles
# (fat-check-map, ntfs-check-map) with the raw image.  The media
# ewfexport writes back out equals the raw image, so the E01s hold
# what we think.  The FAT one runs libtsk and libewf in one process
# (see test-e01-link.sh).
source ./functions.sh
set -x
set -o pipefail
requires ewfacquire -V
requires ewfexport -V
requires sqlite3 --version
requires mkfs.vfat --help
requires mcopy --version
requires fls -V
requires_ntfs
requires ntfscp --version
export MTOOLS_SKIP_CHECK=1
cd "$tmp"

# acquire RAW TARGET: TARGET.E01, TARGET.E02 ... (1 MiB segments, the
# smallest ewfacquire writes), deflated, MD5 and SHA-1 stored.
acquire ()
{
    ewfacquire -u -q -t "$2" -S 1M -c deflate:fast -d sha1 "$1" > "$2.log"
    ls "$2".E0*
}

# dump MAP: the map's SQL without what names the image file or the run.
dump ()
{
    sqlite3 "$1" .dump |
        grep -v "^INSERT INTO meta VALUES('\(created\|tool_version\)'" |
        grep -v '^INSERT INTO disks VALUES'
}

# same RAW TARGET: the E01's map equals the raw image's.
same ()
{
    virt-bmap -q -o "$2.raw.bmap" "$1"
    virt-bmap -o "$2.e01.bmap" "$2.E01" 2> "$2.warnings"
    cat "$2.warnings"
    test ! -s "$2.warnings"
    dump "$2.raw.bmap" > "$2.raw.sql"
    dump "$2.e01.bmap" > "$2.e01.sql"
    test "$(grep -c '^INSERT INTO extents' "$2.raw.sql")" -gt 10
    cmp "$2.raw.sql" "$2.e01.sql"
    test "$(sqlite3 "$2.e01.bmap" 'SELECT device, path, format, size FROM disks')" = \
         "/dev/sda|$2.E01|e01|$(stat -c %s "$1")"
    # What libewf reads is what ewfexport reads.
    ewfexport -u -q -t "$2.export" -f raw "$2.E01" > "$2.export.log"
    cmp "$2.export.raw" "$1"
}

# ext4 in an MBR partition, random data so that deflate leaves
# segments to split.
"$srcdir/make-sample-image" disk.img
dd if=/dev/urandom of=disk.img bs=1M count=3 seek=60 conv=notrunc status=none
acquire disk.img disk
test -f disk.E03
same disk.img disk

# FAT32, files of random bytes (the content oracle).
mkdir src src/dir
for n in 1 4097 100000 1500000; do head -c $n /dev/urandom > src/f$n; done
head -c 2000000 /dev/urandom > "src/dir/a long name.bin"
truncate -s 40M fat.img
mkfs.vfat -F 32 -s 1 -n E01TEST fat.img
mcopy -s -i fat.img src/* ::/
acquire fat.img fat
test -f fat.E03
same fat.img fat
"$srcdir/fat-check-map" fat.img fat.e01.bmap /dev/sda src

# NTFS.
make_ntfs ntfs.img 24M
for n in 0 700 4097 3000000; do
    head -c $n /dev/urandom > n$n
    ntfscp -f ntfs.img n$n /n$n
done
acquire ntfs.img ntfs
test -f ntfs.E03
same ntfs.img ntfs
"$srcdir/ntfs-check-map" ntfs.img ntfs.e01.bmap /dev/sda

# Any segment names the set; --format e01 forces it.
virt-bmap -q -o seg2.bmap fat.E02
dump seg2.bmap | cmp - fat.raw.sql
virt-bmap -q --format e01 -o forced.bmap fat.E01
dump forced.bmap | cmp - fat.raw.sql

# One segment named otherwise (evidence.bin): detected by its
# signature, opened alone.
ewfacquire -u -q -t one -c deflate:fast fat.img > one.log
test -f one.E01 && test ! -e one.E02
mv one.E01 evidence.bin
virt-bmap -q -o evidence.bmap evidence.bin
dump evidence.bmap | cmp - fat.raw.sql
test "$(sqlite3 evidence.bmap 'SELECT format FROM disks')" = e01
