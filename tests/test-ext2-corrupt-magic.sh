#!/usr/bin/env bash
# The primary superblock's magic number is wiped; the backups are
# intact (debugfs -s 8193 reads the file).  The mapper must find the
# backup superblock, say so in a warning, and map the files.
source ./functions.sh
set -x
requires debugfs -V
requires python3 --version

mkdir -p $tmp/src/d
repeat data 20000 > $tmp/src/d/f
$MKFS_EXT4 -b 1024 -d $tmp/src $tmp/disk.img 16M
# s_magic is at byte 56 of the superblock, which starts at 1024.
printf '\0\0' | dd of=$tmp/disk.img bs=1 seek=$((1024 + 56)) conv=notrunc
debugfs -R "stat /d/f" $tmp/disk.img 2>&1 | grep_q 'Bad magic'
debugfs -n -s 8193 -b 1024 -R "cat /d/f" $tmp/disk.img | cmp - $tmp/src/d/f

virt-bmap -o $tmp/disk.bmap $tmp/disk.img 2> $tmp/err
cat $tmp/err
grep -q 'virt-bmap: warning: /dev/sda: .*backup superblock' $tmp/err
virt-bmap export $tmp/disk.bmap --format tsv > $tmp/map.tsv
python3 $srcdir/ext2-check-coverage $tmp/map.tsv
python3 $srcdir/ext2-check-content $tmp/disk.img $tmp/map.tsv /dev/sda $tmp/src
