#!/usr/bin/env bash
# The image is cut in half: the filesystem claims blocks the image does
# not have.  No crash; either a map with warnings or a clean error, and
# never a half-written map.
source ./functions.sh
set -x
requires debugfs -V

mkdir -p $tmp/src/d
for i in 1 2 3 4 5 6; do yes $i | head -c 300000 > $tmp/src/d/f$i; done
$MKFS_EXT4 -b 1024 -d $tmp/src $tmp/disk.img 4M
truncate -s 2M $tmp/disk.img

virt-bmap -o $tmp/disk.bmap $tmp/disk.img 2> $tmp/err || r=$?
cat $tmp/err
test "${r:-0}" -eq 0
grep -q 'virt-bmap: warning:' $tmp/err
virt-bmap export $tmp/disk.bmap --format tsv > $tmp/map.tsv
python3 $srcdir/ext2-check-coverage $tmp/map.tsv
