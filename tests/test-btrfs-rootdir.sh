#!/usr/bin/env bash
# btrfs filesystems made by mkfs.btrfs --rootdir (no root, no kernel):
# files of many sizes (inline, one extent, several, holes), empty files,
# hard links, symlinks, a directory of 300 files, UTF-8 names; metadata
# DUP (mkfs's default: tree blocks at two physical places, so that
# logical != physical), SINGLE, data DUP, 4 KiB and 64 KiB nodes.  Each
# map is checked by btrfs-rootdir-check against dump-tree and
# btrfs-map-logical (every tree block at every copy, named by its
# owner; free space per the extent tree; coverage) and every file
# rebuilt from the image at its mapped ranges.  Then checksums of
# another type: mapped, with a warning that they are not verified.
source ./functions.sh
set -x -o pipefail
source "$srcdir/btrfs-functions.sh"
requires_mkfs_btrfs

src=$tmp/src
mkdir -p $src/d/e/f $src/many "$src/ünï cödé"
: > $src/empty
printf x > $src/one
repeat small 2000 > $src/inline
repeat medium 5000 > $src/d/medium
head -c 1234567 /dev/urandom > $src/d/e/big
# A hole in the middle.
head -c 100000 /dev/urandom > $src/d/sparse
truncate -s 1000000 $src/d/sparse
head -c 70000 /dev/urandom >> $src/d/sparse
echo hello > $src/d/e/f/deep
ln $src/d/e/f/deep $src/d/hardlink
ln -s ../d/e/f/deep $src/many/symlink
echo utf > "$src/ünï cödé/fïlé"
for i in $(seq 1 300); do echo "file $i" > $src/many/file-$i; done

img=$tmp/btrfs.img
check ()
{
    rm -f $img
    truncate -s 300m $img
    mkfs.btrfs -q -f --rootdir $src "$@" $img
    virt-bmap -o $tmp/map.bmap $img 2> $tmp/stderr
    cat $tmp/stderr
    if grep 'warning:' $tmp/stderr; then
        fail "warnings mapping a sound filesystem ($*)"
    fi
    "$srcdir/btrfs-rootdir-check" $img $tmp/map.bmap $src
}

check
check -m single
check -d dup -m dup
check -n 4096
check -n 65536 -m single

# Hashes from the map's extents (inline, holes, data DUP): sha256sum's.
rm -f $img
truncate -s 300m $img
mkfs.btrfs -q -f -d dup --rootdir $src $img
virt-bmap --hash sha256 -o $tmp/map.bmap $img
for f in inline one empty d/medium d/e/big d/sparse d/hardlink "ünï cödé/fïlé"; do
    virt-bmap query $tmp/map.bmap --path "/dev/sda:/$f" > $tmp/q
    sum=$(sha256sum < "$src/$f")
    grep_q "^# sha256 ${sum%% *}\$" $tmp/q
done

# xxhash checksums: read, not verified, said once.
check_other ()
{
    rm -f $img
    truncate -s 300m $img
    mkfs.btrfs -q -f --csum $1 --rootdir $src $img
    virt-bmap -o $tmp/map.bmap $img 2> $tmp/stderr
    cat $tmp/stderr
    grep_q "checksums of type $2 (.): not verified" $tmp/stderr
    test "$(grep -c 'warning:' $tmp/stderr)" = 1
    "$srcdir/btrfs-rootdir-check" $img $tmp/map.bmap $src
}
check_other xxhash xxhash64
check_other sha256 sha256
check_other blake2 blake2b
