#!/usr/bin/env bash
# Several disks in one map: /dev/sda, /dev/sdb, disk column 0 and 1.
source ./functions.sh
set -x
requires sfdisk --version

"$srcdir/make-sample-image" "$tmp/a.img"
truncate -s 8M "$tmp/b.img"
$MKFS_EXT4 "$tmp/b.img"
virt-bmap -q -o "$tmp/ab.bmap" "$tmp/a.img" "$tmp/b.img"

virt-bmap export "$tmp/ab.bmap" --format text > "$tmp/text"
grep -qx "1 0 $(printf %x $(stat -c %s "$tmp/a.img")) v /dev/sda" "$tmp/text"
grep -qx "2 0 800000 v /dev/sdb" "$tmp/text"
# b.img has no partition table: its filesystem lives on /dev/sdb itself.
grep -q '^2 0 [0-9a-f]* m /dev/sdb <' "$tmp/text"
virt-bmap query --disk 1 "$tmp/ab.bmap" 0 | grep_q -P '^0\t1\tv\t/dev/sdb\t'
expect_fail virt-bmap query --disk 2 "$tmp/ab.bmap" 0
