#!/usr/bin/env bash
# A directory loop: /a/b/loop is a hard link to /a (debugfs ln makes it,
# e2fsck would not).  The map must terminate, warn, and name each
# directory once.
source ./functions.sh
set -x
requires debugfs -V
requires python3 --version

mkdir -p $tmp/src/a/b
repeat x 5000 > $tmp/src/a/b/f
$MKFS_EXT4 -d $tmp/src $tmp/disk.img 4M
debugfs -w -R "ln /a /a/b/loop" $tmp/disk.img
debugfs -R "ls /a/b/loop" $tmp/disk.img | grep_q '\bb\b'

virt-bmap -o $tmp/disk.bmap $tmp/disk.img 2> $tmp/err || r=$?
cat $tmp/err
test "${r:-0}" -eq 0
grep -q 'virt-bmap: warning:' $tmp/err
# The checks of ext2-check-map, but no rdump: it would follow the loop.
virt-bmap export $tmp/disk.bmap --format tsv > $tmp/map.tsv
python3 $srcdir/ext2-check-coverage $tmp/map.tsv
python3 $srcdir/ext2-check-fs $tmp/disk.img $tmp/map.tsv /dev/sda $tmp/disk.bmap
mkdir -p $tmp/root/a/b
debugfs -R "dump /a/b/f $tmp/root/a/b/f" $tmp/disk.img
awk -F'\t' '$6 == "/a/b/f"' $tmp/map.tsv > $tmp/f.tsv
python3 $srcdir/ext2-check-content $tmp/disk.img $tmp/f.tsv /dev/sda $tmp/root
