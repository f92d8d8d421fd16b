#!/usr/bin/env bash
# Hostile EBR chains: a link back to the first EBR and a link to
# itself end the chain with a warning (no hang), keeping the logicals
# found so far; a link outside the extended partition too.
source ./functions.sh
set -x
requires sfdisk --version
requires jq --version
source "$srcdir/part-functions.sh"

good=$tmp/good.img
img=$tmp/disk.img
truncate -s 40M $good
sfdisk -q --no-reread $good <<EOF
label: dos
,4M,83
,+,E
,8M,83
,8M,83
,+,83
EOF
oracle_parts $good > $tmp/expected
size=$(stat -c %s $good)
ext=$(part_field /dev/sda2 start)
ext_end=$(part_field /dev/sda2 end)

# The EBRs, by following the links: entry 2 of each holds the next
# EBR's start, relative to the extended partition.
ebr1=$ext
ebr2=$(( ext + $(get_le32 $good $((ebr1 + 446 + 16 + 8))) * 512 ))
test "$(od -An -tx1 -j $((ebr2 + 510)) -N2 $good | tr -d ' ')" = 55aa

expect_parts ()
{
    grep -E "^/dev/sda($1) " $tmp/expected | diff -u - <(map_parts)
    children /dev/sda /dev/sda1 /dev/sda2 | tiles 0 $size
    children /dev/sda2 /dev/sda5 /dev/sda6 /dev/sda7 | tiles $ext $ext_end
}

# The second EBR links back to the first.
cp $good $img
put_le32 $img $((ebr2 + 446 + 16 + 8)) 0
map $img
grep -q 'loops back' $tmp/warnings
expect_parts '1|2|5|6'
test "$(children /dev/sda2 | grep -c '<ebr>')" -eq 2

# The first EBR links to itself.
cp $good $img
put_le32 $img $((ebr1 + 446 + 16 + 8)) 0
map $img
grep -q 'loops back' $tmp/warnings
expect_parts '1|2|5'

# The first EBR links beyond the extended partition.
cp $good $img
put_le32 $img $((ebr1 + 446 + 16 + 8)) $(( (ext_end - ext) / 512 + 10 ))
map $img
grep -q 'outside the extended partition' $tmp/warnings
expect_parts '1|2|5'
