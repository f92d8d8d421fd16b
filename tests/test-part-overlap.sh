#!/usr/bin/env bash
# Overlapping MBR partitions are mapped as the table gives them, with a
# warning, and no gap is mapped over them; an entry with a type but
# no sectors is no partition.
source ./functions.sh
set -x
requires sfdisk --version
requires jq --version
source "$srcdir/part-functions.sh"

img=$tmp/disk.img
truncate -s 20M $img
sfdisk -q --no-reread $img <<EOF
label: dos
,4M,83
,4M,83
EOF
oracle_parts $img > $tmp/expected
s1=$(part_field /dev/sda1 start)
size=$(stat -c %s $img)

# sda2 moved to start 1 MiB into sda1; entry 3 with no sectors.
put_le32 $img $((446 + 16 + 8)) $((s1 / 512 + 2048))
printf '\x83' | dd of=$img bs=1 seek=$((446 + 32 + 4)) conv=notrunc status=none
put_le32 $img $((446 + 32 + 8)) 30000
map $img
grep -q '/dev/sda2 overlaps /dev/sda1' $tmp/warnings
test "$(wc -l < $tmp/warnings)" -eq 1
s2=$((s1 + 1048576))
printf '/dev/sda1 %d %d\n/dev/sda2 %d %d\n' \
       $s1 $((s1 + 4194304)) $s2 $((s2 + 4194304)) | diff -u - <(map_parts)
children /dev/sda /dev/sda1 /dev/sda2 | tiles --overlaps 0 $size
if children /dev/sda /dev/sda1 /dev/sda2 | tiles 0 $size; then
    fail "the partitions do not overlap"
fi
