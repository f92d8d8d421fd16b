#!/usr/bin/env bash
# A fragmented FAT32 volume: filled with small files, every other one
# deleted, then big files written into the holes, so that their
# cluster chains jump.  Checked by fat-check-map (istat's sectors in
# file order, content against the files written), and at least one
# file must really be in several pieces.
source ./functions.sh
set -x
requires mkfs.vfat --help
requires mcopy --version
requires fls -V
requires python3 --version
export MTOOLS_SKIP_CHECK=1 LC_ALL=C.UTF-8

img=$tmp/frag.img
src=$tmp/src
truncate -s 40M $img
mkfs.vfat -F 32 -s 1 $img
mkdir -p $tmp/fill $src/big
for i in $(seq 1 300); do
    head -c $((1024 + i * 20)) /dev/urandom > $tmp/fill/small$i
done
mcopy -i $img $tmp/fill/* ::/
# A filler takes all the space left, so that only the holes remain.
free=$(mdir -i $img ::/ | awk '/bytes free/ { gsub(/ /, ""); sub(/bytesfree/, ""); print }')
head -c $((free - 64 * 1024)) /dev/zero > $src/filler
mcopy -i $img $src/filler ::/
# Every other small file goes; the rest stay in the source tree.
for i in $(seq 1 2 300); do
    echo "::/small$i"
done | xargs mdel -i $img
for i in $(seq 2 2 300); do
    mv $tmp/fill/small$i $src/
done
for i in 1 2 3; do
    head -c $((60000 * i)) /dev/urandom > $src/big/big$i
done
mmd -i $img ::/big
mcopy -i $img $src/big/* ::/big/

virt-bmap -o $tmp/frag.bmap $img 2> $tmp/warnings
cat $tmp/warnings
test ! -s $tmp/warnings
$srcdir/fat-check-map $img $tmp/frag.bmap /dev/sda $src
# big3 is in several runs, each at its own offset in the file.
n=$(sqlite3 $tmp/frag.bmap "SELECT count(*) FROM extents e JOIN objects o ON e.object = o.id WHERE o.path = '/big/big3'")
test "$n" -gt 10
