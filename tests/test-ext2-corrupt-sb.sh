#!/usr/bin/env bash
# The primary superblock's magic is wiped; the backups are intact.
source ./functions.sh
set -x
requires debugfs -V
requires python3 --version

mkdir -p $tmp/src/d
yes data | head -c 20000 > $tmp/src/d/f
$MKFS_EXT4 -b 1024 -d $tmp/src $tmp/disk.img 16M
# s_magic is at byte 56 of the superblock, which starts at 1024.
printf '\0\0' | dd of=$tmp/disk.img bs=1 seek=$((1024 + 56)) conv=notrunc
debugfs -R "stat /d/f" $tmp/disk.img 2>&1 | grep -q 'Bad magic'
debugfs -s 8193 -b 1024 -R "stat /d/f" $tmp/disk.img

virt-bmap -o $tmp/disk.bmap $tmp/disk.img 2> $tmp/err || r=$?
cat $tmp/err
test "${r:-0}" -eq 0
grep -q 'virt-bmap: warning:.*superblock' $tmp/err
