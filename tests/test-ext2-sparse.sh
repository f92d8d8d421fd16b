#!/usr/bin/env bash
# Holes, unwritten extents and blocks past EOF: sparse files from
# mkfs.ext4 -d, then debugfs -w fallocate inside a hole (unwritten),
# beyond EOF (unwritten + past_eof), and a size shrunk under written
# blocks (past_eof).  ext2-check-fs compares every block and flag with
# debugfs stat.
source ./functions.sh
set -x
requires debugfs -V
requires python3 --version

src=$tmp/src
mkdir $src
{ repeat data 8192; head -c 40960 /dev/zero; repeat more 5000; } > $src/sparse
truncate -s 100000 $src/sparse
truncate -s 1M $src/allhole
repeat x 3000 > $src/prealloc
repeat y 5000 > $src/shrunk
$MKFS_EXT4 -b 1024 -d $src $tmp/disk.img 4M
debugfs -w -f - $tmp/disk.img <<CMDS
fallocate /sparse 20 29
fallocate /prealloc 3 9
sif /shrunk size 1500
CMDS
debugfs -R "stat /sparse" $tmp/disk.img | grep_q '(20-29\[u\])'
debugfs -R "stat /prealloc" $tmp/disk.img | grep_q '(3-9\[u\])'

virt-bmap -o $tmp/disk.bmap $tmp/disk.img
virt-bmap export $tmp/disk.bmap --format tsv > $tmp/map.tsv
$srcdir/ext2-check-map $tmp/disk.img $tmp/disk.bmap /dev/sda

# The interesting cases did get their flags (exact blocks: ext2-check-fs).
flags () { awk -F'\t' -v p=$1 '$6 == p { print $9 }' $tmp/map.tsv | sort -u | paste -sd' '; }
test "$(flags /sparse)" = "- unwritten"
test "$(flags /prealloc)" = "- past_eof,unwritten" ||
    test "$(flags /prealloc)" = "- unwritten,past_eof"
test "$(flags /shrunk)" = "- past_eof"
# A file that is all hole is an object without extents.
test "$(flags /allhole)" = ""
$srcdir/ext2-objects $tmp/disk.bmap /dev/sda | grep_q $'^f\t[0-9]*\t/allhole$'
