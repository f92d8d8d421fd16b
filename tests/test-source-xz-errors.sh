#!/usr/bin/env bash
# Bad xz input fails with clear messages, never a crash.
source ./functions.sh
set -x
requires xz --version

truncate -s 24M "$tmp/disk.img"
head -c 3000000 /dev/urandom | dd of="$tmp/disk.img" conv=notrunc status=none
err="$tmp/err"

# A single block (plain xz output) that fits the cache is decoded
# once; a bigger one is streamed (test-source-xz-stream.sh).
xz -T1 -c "$tmp/disk.img" > "$tmp/single.xz"
./test-source-read "$tmp/single.xz" xz "$tmp/disk.img" > "$tmp/out"
grep 'decompressed 1 blocks, 0 restarts$' "$tmp/out"

# One of several blocks too big for the cache.
xz -T1 --block-size=4MiB -c "$tmp/disk.img" > "$tmp/multi.xz"
VIRT_BMAP_XZ_CACHE=1M expect_fail virt-bmap -o "$tmp/x.bmap" "$tmp/multi.xz" 2> "$err"
grep 'VIRT_BMAP_XZ_CACHE' "$err"
VIRT_BMAP_XZ_CACHE=lots expect_fail virt-bmap -o "$tmp/x.bmap" "$tmp/multi.xz" 2> "$err"
grep 'bad size' "$err"

# Truncated: the index and footer are gone.
size=$(stat -c %s "$tmp/multi.xz")
head -c $((size / 2)) "$tmp/multi.xz" > "$tmp/trunc.xz"
expect_fail virt-bmap -o "$tmp/x.bmap" "$tmp/trunc.xz" 2> "$err"
grep 'trunc.xz: truncated xz file' "$err"
head -c 3 "$tmp/multi.xz" > "$tmp/tiny.xz"
expect_fail virt-bmap -o "$tmp/x.bmap" --format xz "$tmp/tiny.xz" 2> "$err"
grep 'not an xz file' "$err"

# A corrupt index (the bytes before the 12-byte stream footer).
cp "$tmp/multi.xz" "$tmp/badindex.xz"
printf '\x55\xaa' | dd of="$tmp/badindex.xz" bs=1 seek=$((size - 20)) \
                       conv=notrunc status=none
expect_fail virt-bmap -o "$tmp/x.bmap" "$tmp/badindex.xz" 2> "$err"
grep 'corrupt' "$err"

# A corrupt block: the index is fine, reading the block fails.
cp "$tmp/multi.xz" "$tmp/badblock.xz"
printf 'garbage!' | dd of="$tmp/badblock.xz" bs=1 seek=100 conv=notrunc status=none
expect_fail ./test-source-read "$tmp/badblock.xz" - "$tmp/disk.img" 2> "$err"
grep 'xz block 0\|corrupt' "$err"

# Not xz at all.
expect_fail virt-bmap -o "$tmp/x.bmap" --format xz "$tmp/disk.img" 2> "$err"
grep 'not an xz file' "$err"
head -c 6 "$tmp/multi.xz" > "$tmp/magic-only"
head -c 100000 /dev/urandom >> "$tmp/magic-only"
expect_fail virt-bmap -o "$tmp/x.bmap" "$tmp/magic-only" 2> "$err"
grep 'magic-only: ' "$err"
test ! -e "$tmp/x.bmap"
