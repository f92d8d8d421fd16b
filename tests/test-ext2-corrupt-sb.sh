#!/usr/bin/env bash
# The primary superblock has a nonsense block size (s_log_block_size =
# 16) but a good magic number; the backups are intact.  The mapper must
# use the backup superblock, say so in a warning, and map the files.
source ./functions.sh
set -x
requires debugfs -V
requires python3 --version

mkdir -p $tmp/src/d
repeat data 20000 > $tmp/src/d/f
$MKFS_EXT4 -b 1024 -d $tmp/src $tmp/disk.img 16M
# s_log_block_size is the little-endian u32 at byte 24 of the superblock.
printf '\x10' | dd of=$tmp/disk.img bs=1 seek=$((1024 + 24)) conv=notrunc
debugfs -R "stat /d/f" $tmp/disk.img 2>&1 | grep_q 'superblock is corrupt'
debugfs -n -s 8193 -b 1024 -R "cat /d/f" $tmp/disk.img | cmp - $tmp/src/d/f

virt-bmap -o $tmp/disk.bmap $tmp/disk.img 2> $tmp/err
cat $tmp/err
grep -q 'virt-bmap: warning: /dev/sda: .*backup superblock at block 8193' $tmp/err
virt-bmap export $tmp/disk.bmap --format tsv > $tmp/map.tsv
python3 $srcdir/ext2-check-coverage $tmp/map.tsv
python3 $srcdir/ext2-check-content $tmp/disk.img $tmp/map.tsv /dev/sda $tmp/src
