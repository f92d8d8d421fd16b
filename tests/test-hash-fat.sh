#!/usr/bin/env bash
# virt-bmap --hash on FAT16, FAT32 in an MBR partition, exFAT with a
# fragmented file, and ext4 and FAT16 on one disk: hashes against
# hashlib over icat (every file fls lists) and the sources; the DFXML
# export against fiwalk's (volume by volume).
source ./functions.sh
set -x
set -o pipefail
requires mkfs.vfat --help
requires mcopy --version
requires which mkfs.exfat
requires fls -V
requires fiwalk -V
requires python3 --version
export MTOOLS_SKIP_CHECK=1
export LC_ALL=C.UTF-8

src=$tmp/src
mkdir -p "$src/Long Directory Name/sub"
for n in 0 1 511 512 513 2048 4097 70000; do
    head -c $n /dev/urandom > $src/f$n
done
head -c 9000 /dev/urandom > "$src/Long Directory Name/sub/Ünïcödé näme & more.bin"
head -c 300000 /dev/urandom > "$src/Long Directory Name/big"

# check IMG BMAP DEVICE [SECTOR_OFFSET]
check ()
{
    local img=$1 bmap=$2 dev=$3
    virt-bmap --hash md5,sha1,sha256 -o $bmap $img 2> $tmp/warnings
    cat $tmp/warnings
    test ! -s $tmp/warnings
    $srcdir/hash-check-files $img $bmap $dev $4
    for f in f0 f1 f513 f70000 "Long Directory Name/big" \
             "Long Directory Name/sub/Ünïcödé näme & more.bin"; do
        virt-bmap query $bmap --path "$dev:/$f" > $tmp/q
        test "$(awk '$1 == "#" && $2 == "sha256" { print $3 }' $tmp/q)" = \
             "$(sha256sum < "$src/$f" | cut -d' ' -f1)"
    done
    virt-bmap export $bmap --format dfxml -o $tmp/ours.xml
    rm -f $tmp/fiwalk.xml
    fiwalk -X $tmp/fiwalk.xml $img
    $srcdir/hash-check-dfxml $tmp/ours.xml $tmp/fiwalk.xml
}

img=$tmp/fat16.img
truncate -s 32M $img
mkfs.vfat -F 16 -s 4 $img
mcopy -s -i $img $src/* ::/
check $img $tmp/fat16.bmap /dev/sda

img=$tmp/fat32.img
truncate -s 64M $img
mkfs.vfat -F 32 -s 1 $img
mcopy -s -i $img $src/* ::/
disk=$tmp/disk.img
truncate -s 70M $disk
echo 'start=2048, size=131072, type=c' | sfdisk -q $disk
dd if=$img of=$disk bs=1M seek=1 conv=notrunc status=none
check $disk $tmp/disk.bmap /dev/sda1 2048

# exFAT, a file written into the holes other files left.
img=$tmp/exfat.img
truncate -s 16M $img
mkfs.exfat -c 4096 $img
cmds=("mkdir:/Long Directory Name" "mkdir:/Long Directory Name/sub")
for n in 0 1 511 512 513 2048 4097 70000; do cmds+=(put:/f$n:$src/f$n); done
for i in $(seq 1 12); do
    head -c 8192 /dev/urandom > $tmp/hole$i
    cmds+=(put:/hole$i:$tmp/hole$i)
done
for i in $(seq 1 2 12); do cmds+=(rm:/hole$i); done
for f in "Long Directory Name/big" \
         "Long Directory Name/sub/Ünïcödé näme & more.bin"; do
    cmds+=("put:/$f:$src/$f")
done
$srcdir/exfat-writer $img "${cmds[@]}"
check $img $tmp/exfat.bmap /dev/sda
# The big file is in several pieces.
test "$(sqlite3 $tmp/exfat.bmap "SELECT count(*) FROM extents e JOIN objects o ON o.id = e.object WHERE o.path = '/Long Directory Name/big' AND e.flags = 0")" -gt 1

# Two filesystems on one disk, ext4 then FAT16, the same names in both:
# two volumes, each file compared in its own.
requires mkfs.ext4 -V
mkdir -p $tmp/a
echo ext4 > $tmp/a/f1
head -c 70000 /dev/urandom > $tmp/a/f70000
disk=$tmp/two.img
truncate -s 40M $disk
printf 'start=2048, size=32768, type=83\nstart=36864, size=40000, type=6\n' |
    sfdisk -q $disk
truncate -s 16M $tmp/p1
$MKFS_EXT4 -d $tmp/a $tmp/p1
dd if=$tmp/p1 of=$disk bs=1M seek=1 conv=notrunc status=none
truncate -s 20000K $tmp/p2
mkfs.vfat -F 16 $tmp/p2
mcopy -i $tmp/p2 $src/f1 $src/f70000 ::/
dd if=$tmp/p2 of=$disk bs=512 seek=36864 conv=notrunc status=none
virt-bmap --hash md5,sha1,sha256 -o $tmp/two.bmap $disk 2> $tmp/warnings
cat $tmp/warnings
test ! -s $tmp/warnings
$srcdir/hash-check-files $disk $tmp/two.bmap /dev/sda1 2048
$srcdir/hash-check-files $disk $tmp/two.bmap /dev/sda2 36864
virt-bmap export $tmp/two.bmap --format dfxml -o $tmp/ours.xml
rm -f $tmp/fiwalk.xml
fiwalk -X $tmp/fiwalk.xml $disk
$srcdir/hash-check-dfxml $tmp/ours.xml $tmp/fiwalk.xml
test "$(grep -c '<volume ' $tmp/ours.xml)" -eq 2
