#!/usr/bin/env bash
# The in-memory index agrees with a brute-force scan of the map, on a
# partitioned disk with inline data (files inside the inode table) and
# on a disk with logical partitions.
source ./functions.sh
set -x
requires sfdisk --version

"$srcdir/make-sample-image" "$tmp/sample.img"
virt-bmap -q -o "$tmp/sample.bmap" "$tmp/sample.img"
./test-index "$tmp/sample.bmap"

# Inline data and tiny files: many overlaps with the inode table.
mkdir "$tmp/root"
for i in $(seq 1 50); do echo "file $i" > "$tmp/root/f$i"; done
truncate -s 32M "$tmp/inline.img"
printf 'start=2048, size=20480, type=83\nstart=22528, type=5\nstart=24576, size=20480, type=83\n' |
    sfdisk -q --no-reread "$tmp/inline.img"
$MKFS_EXT4 -O inline_data -E offset=$((2048 * 512)) -d "$tmp/root" "$tmp/inline.img" 10M
$MKFS_EXT4 -E offset=$((24576 * 512)) -d "$tmp/root" "$tmp/inline.img" 10M
virt-bmap -q -o "$tmp/inline.bmap" "$tmp/inline.img"
./test-index "$tmp/inline.bmap"
