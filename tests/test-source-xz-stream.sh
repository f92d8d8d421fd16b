#!/usr/bin/env bash
# A single-block xz file (plain xz output) bigger than the cache is
# streamed: a warning says so and how to recompress; nbdcopy reading
# forward through inspect-nbd gets the exact bytes without restarting
# the decoder; reads behind the window restart it and still get the
# right bytes; the map equals the raw image's.
source ./functions.sh
set -x
requires xz --version
requires nbdcopy --version
requires sfdisk --version

"$srcdir/make-sample-image" "$tmp/disk.img"
xz -T1 -c "$tmp/disk.img" > "$tmp/single.xz"
# Oracle: xz itself lists one block, bigger than the 4 MiB cap below.
xz --robot -lv "$tmp/single.xz" > "$tmp/list"
test "$(grep -c '^block' "$tmp/list")" -eq 1
test "$(stat -c %s "$tmp/disk.img")" -gt $((4 * 1024 * 1024))
export VIRT_BMAP_XZ_CACHE=4M

cd "$tmp"
inspect-nbd -v single.xz --run 'nbdinfo --can multi-conn "$uri" && exit 9
                                nbdcopy "$uri" copy.img' 2> err
cmp copy.img disk.img
grep 'warning: single.xz is a single xz block .* streamed' err
grep -- "xz -dc 'single.xz' | xz --block-size=16MiB" err
# One connection, requests in order: the decoder never went back.
grep "served $(stat -c %s disk.img) bytes; .*, 0 restarts" err

# Out of order (16 threads, 1 MiB window): restarts, same bytes.
rm copy.img
VIRT_BMAP_XZ_CACHE=1M inspect-nbd -t 16 single.xz --run 'nbdcopy "$uri" copy.img'
cmp copy.img disk.img

# Random reads from 4 threads, many behind the window.
READS=5 "$abs_builddir/test-source-read" single.xz - disk.img > out
grep 'streamed' out
grep -v ' 0 restarts' out | grep restarts

# The map of the streamed image is the raw image's.
virt-bmap -q -o raw.bmap disk.img
virt-bmap -q -o xz.bmap single.xz 2> err
grep 'warning: .*streamed' err
virt-bmap export raw.bmap --format tsv | grep -v '^#' > raw.tsv
virt-bmap export xz.bmap --format tsv | grep -v '^#' > xz.tsv
test "$(wc -l < raw.tsv)" -gt 10
cmp raw.tsv xz.tsv

# Corrupt data inside the block: the read that meets it fails with
# the block named, the client sees an error, nothing crashes.
size=$(stat -c %s single.xz)
cp single.xz bad.xz
printf 'garbage!' | dd of=bad.xz bs=1 seek=$((size / 2)) conv=notrunc status=none
expect_fail inspect-nbd bad.xz --run 'nbdcopy "$uri" bad.img' 2> err
grep 'bad.xz: .*xz block 1' err
