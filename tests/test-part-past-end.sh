#!/usr/bin/env bash
# Partitions past the end: a truncated image clips the partition it
# cuts (with a warning) and ignores the one that starts beyond its end;
# a logical partition larger than its extended partition is clipped to
# it.  The disk and the extended partition stay tiled.
source ./functions.sh
set -x
requires sfdisk --version
requires jq --version
source "$srcdir/part-functions.sh"

good=$tmp/good.img
img=$tmp/disk.img
truncate -s 20M $good
sfdisk -q --no-reread $good <<EOF
label: dos
,4M,83
,8M,83
,+,E
,2M,83
EOF
oracle_parts $good > $tmp/expected
s2=$(part_field /dev/sda2 start)
ext=$(part_field /dev/sda3 start)
ext_end=$(part_field /dev/sda3 end)

# Cut in the middle of sda2, and not on a sector boundary.
cp $good $img
size=$((s2 + 3 * 1048576 + 100))
truncate -s $size $img
map $img
grep -q '/dev/sda2 extends beyond the end of /dev/sda' $tmp/warnings
grep -q '/dev/sda3 starts at byte [0-9]*, outside /dev/sda' $tmp/warnings
{ grep '^/dev/sda1 ' $tmp/expected; echo "/dev/sda2 $s2 $size"; } |
    diff -u - <(map_parts)
children /dev/sda /dev/sda1 /dev/sda2 | tiles 0 $size

# sda5 claims 2^32-1 sectors.
cp $good $img
size=$(stat -c %s $img)
put_le32 $img $((ext + 446 + 12)) 4294967295
map $img
grep -q '/dev/sda5 extends beyond the end of /dev/sda3' $tmp/warnings
s5=$(part_field /dev/sda5 start)
{ grep -v '^/dev/sda5 ' $tmp/expected; echo "/dev/sda5 $s5 $ext_end"; } |
    sort | diff -u - <(map_parts)
children /dev/sda /dev/sda1 /dev/sda2 /dev/sda3 | tiles 0 $size
children /dev/sda3 /dev/sda5 | tiles $ext $ext_end
