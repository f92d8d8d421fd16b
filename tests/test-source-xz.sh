#!/usr/bin/env bash
# xz with random access: reads at random offsets (from several threads,
# with a cache small enough to evict) equal the decompressed file; the
# map of the xz image equals the map of the raw image, whose file
# extents hold what debugfs reads.
source ./functions.sh
set -x
requires xz --version
requires debugfs -V
requires sfdisk --version

"$srcdir/make-sample-image" "$tmp/disk.img"
xz -T1 --block-size=1MiB -c "$tmp/disk.img" > "$tmp/disk.img.xz"

VIRT_BMAP_XZ_CACHE=4M ./test-source-read "$tmp/disk.img.xz" - "$tmp/disk.img"
# Room for one block only: the readers wait for each other's room.
VIRT_BMAP_XZ_CACHE=1M READS=100 ./test-source-read "$tmp/disk.img.xz" - "$tmp/disk.img"
./test-source-read "$tmp/disk.img.xz" xz "$tmp/disk.img"

# Several streams (with padding between them), and odd block sizes.
head -c 5000000 "$tmp/disk.img" > "$tmp/part1"
tail -c +5000001 "$tmp/disk.img" > "$tmp/part2"
{ xz -T1 --block-size=300000 -c "$tmp/part1"
  head -c 8 /dev/zero
  xz -T1 --block-size=777777 -9e -c "$tmp/part2"; } > "$tmp/multi.xz"
VIRT_BMAP_XZ_CACHE=2M ./test-source-read "$tmp/multi.xz" - "$tmp/disk.img"

# The same map as the raw image (provenance lines excluded).
virt-bmap -q -o "$tmp/raw.bmap" "$tmp/disk.img"
virt-bmap -q -o "$tmp/xz.bmap" "$tmp/disk.img.xz"
virt-bmap -q -o "$tmp/xz2.bmap" --format xz "$tmp/disk.img.xz"
virt-bmap export "$tmp/raw.bmap" --format tsv | grep -v '^#' > "$tmp/raw.tsv"
virt-bmap export "$tmp/xz.bmap" --format tsv | grep -v '^#' > "$tmp/xz.tsv"
virt-bmap export "$tmp/xz2.bmap" --format tsv | grep -v '^#' > "$tmp/xz2.tsv"
test "$(wc -l < "$tmp/raw.tsv")" -gt 10
cmp "$tmp/raw.tsv" "$tmp/xz.tsv"
cmp "$tmp/raw.tsv" "$tmp/xz2.tsv"

# Oracle: the extents the xz map gives for a file, cut from the
# decompressed image, are the file as debugfs reads it.
f=/usr/share/doc/numbers.txt
virt-bmap query "$tmp/xz.bmap" --path "/dev/sda1:$f" > "$tmp/ext"
test -s "$tmp/ext"
size=$(head -1 "$tmp/ext" | cut -f10)
while IFS=$'\t' read -r disk start end kind dev path ino off rest; do
    dd if="$tmp/disk.img" iflag=skip_bytes,count_bytes skip="$start" \
       count=$((end - start)) status=none
done < "$tmp/ext" > "$tmp/blocks"
head -c "$size" "$tmp/blocks" > "$tmp/mapped"
debugfs -R "cat $f" "$tmp/disk.img?offset=1048576" > "$tmp/debugfs" 2>/dev/null
test "$(stat -c %s "$tmp/debugfs")" -eq "$size"
cmp "$tmp/mapped" "$tmp/debugfs"
