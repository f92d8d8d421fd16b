#!/usr/bin/env bash
# Disks without a partition table: a filesystem on the whole disk
# (ext4; FAT and NTFS, whose boot sectors carry the MBR signature;
# ext4 with the signature written over its boot sector), and an empty
# MBR.
source ./functions.sh
set -x
requires sfdisk --version
requires mkfs.fat --help
requires mkntfs --help
source "$srcdir/part-functions.sh"

img=$tmp/disk.img

whole_disk ()
{
    map $img
    test ! -s $tmp/warnings
    test -z "$(map_parts)"
    if grep -v '^#' $tmp/map.tsv | cut -f6 |
            grep -E '<(partition table|protective mbr|gpt .*|unpartitioned)>'; then
        fail "a partition table was mapped"
    fi
}

$MKFS_EXT4 $img 16M
whole_disk
grep -v '^#' $tmp/map.tsv |
    awk -F'\t' '$5 == "/dev/sda" && $6 == "<superblock>" { print $2 }' |
    grep -qx 1024

# Boot code and signature in front of the ext4: still no table.
printf '\x55\xaa' | dd of=$img bs=1 seek=510 conv=notrunc status=none
whole_disk
grep -v '^#' $tmp/map.tsv |
    awk -F'\t' '$5 == "/dev/sda" && $6 == "<superblock>" { print $2 }' |
    grep -qx 1024

rm $img
truncate -s 16M $img
mkfs.fat $img
test "$(od -An -tx1 -j 510 -N2 $img | tr -d ' ')" = 55aa
whole_disk

rm $img
truncate -s 16M $img
mkntfs -F -q -Q $img
test "$(od -An -tx1 -j 510 -N2 $img | tr -d ' ')" = 55aa
whole_disk

# An MBR with no partitions: the table and one gap.
rm $img
truncate -s 16M $img
echo 'label: dos' | sfdisk -q --no-reread $img
map $img
test ! -s $tmp/warnings
test -z "$(map_parts)"
size=$(stat -c %s $img)
children /dev/sda > $tmp/children
printf '0 512 m <partition table>\n512 %d u <unpartitioned>\n' $size |
    diff -u - $tmp/children
