#!/usr/bin/env bash
# The three export formats describe the same extents.
source ./functions.sh
set -x
requires jq --version
requires sfdisk --version

"$srcdir/make-sample-image" "$tmp/disk.img"
virt-bmap -q -o "$tmp/disk.bmap" "$tmp/disk.img"

virt-bmap export "$tmp/disk.bmap" --format tsv -o "$tmp/tsv"
virt-bmap export "$tmp/disk.bmap" --format text -o "$tmp/text"
virt-bmap export "$tmp/disk.bmap" --format json -o "$tmp/json"
test -z "$(ls "$tmp" | grep '\.tmp')"

n=$(grep -vc '^#' "$tmp/tsv")
test "$n" -gt 10
test "$(wc -l < "$tmp/text")" -eq "$n"
test "$(jq '.extents | length' "$tmp/json")" -eq "$n"

# text is the tsv with hex offsets and the disk counted from 1.
grep -v '^#' "$tmp/tsv" |
    awk -F'\t' '{ printf "%d %x %x %s %s", $1 + 1, $2, $3, $4, $5;
                  if ($6 != "-") printf " %s", $6; printf "\n" }' > "$tmp/text2"
cmp "$tmp/text" "$tmp/text2"

# json has the same fields as the tsv.
jq -r '.extents[] | [.disk, .start, .end, .kind, .device, (.path // "-"),
       .inode, (.object_offset // "-")] | @tsv' "$tmp/json" > "$tmp/json.tsv"
grep -v '^#' "$tmp/tsv" | cut -f1-8 | cmp - "$tmp/json.tsv"

# The whole disk is one 'v' extent of the image's size (the oracle:
# the file's size), and the partition agrees with sfdisk.
size=$(stat -c %s "$tmp/disk.img")
grep -qx "1 0 $(printf %x "$size") v /dev/sda" "$tmp/text"
start=$(sfdisk --json "$tmp/disk.img" | jq '.partitiontable.partitions[0].start * 512')
psize=$(sfdisk --json "$tmp/disk.img" | jq '.partitiontable.partitions[0].size * 512')
grep -qx "1 $(printf %x "$start") $(printf %x $((start + psize))) p /dev/sda1" "$tmp/text"

expect_fail virt-bmap export "$tmp/disk.bmap" --format xml

# File names are bytes: tabs, newlines and backslashes are escaped in
# tsv so every row keeps its 11 columns; json escapes them its way.
mkdir "$tmp/odd"
printf x > "$tmp/odd/tab	name"
printf y > "$tmp/odd/new
line"
printf z > "$tmp/odd/back\\slash"
: > "$tmp/odd/empty"
truncate -s 8M "$tmp/odd.img"
$MKFS_EXT4 -d "$tmp/odd" "$tmp/odd.img"
virt-bmap -q -o "$tmp/odd.bmap" "$tmp/odd.img"
virt-bmap export "$tmp/odd.bmap" > "$tmp/odd.tsv"
awk -F'\t' 'NF != 11 { bad = 1 } END { exit bad }' "$tmp/odd.tsv"
grep -qF '/tab\tname' "$tmp/odd.tsv"
grep -qF '/new\nline' "$tmp/odd.tsv"
grep -qF '/back\\slash' "$tmp/odd.tsv"
virt-bmap export "$tmp/odd.bmap" --format json |
    jq -e '[.extents[].path] | index("/new\nline") != null'

# An empty file has no extents but is still found by name, with the
# inode debugfs gives it.
ino=$(debugfs -R "stat /empty" "$tmp/odd.img" 2>/dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p')
test -n "$ino"
virt-bmap query "$tmp/odd.bmap" --path /dev/sda:/empty > "$tmp/empty"
test "$(cat "$tmp/empty")" = "$(printf '0\t-\t-\tf\t/dev/sda\t/empty\t%s\t-\t-\t0\t-' "$ino")"
