#!/usr/bin/env bash
# ext3 (1k blocks, 4 groups, so backup superblocks in groups 1 and 3):
# the "<journal>" extents are exactly the journal inode's blocks, data
# and indirect (debugfs stat <8>), as many as dumpe2fs's journal size
# plus the indirect blocks; superblocks, group descriptors, reserved GDT
# blocks, bitmaps and inode tables are 'm' extents where dumpe2fs puts
# them; the "<free space>" extents are dumpe2fs's free blocks.
source ./functions.sh
set -x
requires debugfs -V
requires python3 --version

mkdir -p $tmp/src/d
repeat journal 30000 > $tmp/src/d/f
mkfs.ext3 -q -F -b 1024 -U $TEST_UUID -d $tmp/src $tmp/disk.img 32M
dumpe2fs $tmp/disk.img > $tmp/dumpe2fs
test "$(grep -c 'Backup superblock' $tmp/dumpe2fs)" -eq 2
jblocks=$(sed -n 's/^Total journal blocks: *//p' $tmp/dumpe2fs)
jind=$(debugfs -R "stat <8>" $tmp/disk.img | grep -o '(D*IND)' | wc -l)
test $jind -gt 0

virt-bmap -o $tmp/disk.bmap $tmp/disk.img
$srcdir/ext2-check-map $tmp/disk.img $tmp/disk.bmap /dev/sda

virt-bmap export $tmp/disk.bmap --format tsv > $tmp/map.tsv
blocks () { awk -F'\t' -v p="$1" '$6 == p { n += ($3 - $2) / 1024 } END { print n + 0 }' $tmp/map.tsv; }
test "$(blocks '<journal>')" -eq $((jblocks + jind))
test "$(blocks '<free space>')" -eq "$(sed -n 's/^Free blocks: *//p' $tmp/dumpe2fs)"
test "$(blocks "<superblock>")" -eq 3
test "$(blocks '<inode table>')" -eq $((4 * $(sed -n 's/^Inode blocks per group: *//p' $tmp/dumpe2fs)))
