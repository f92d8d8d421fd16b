#!/usr/bin/env bash
# Extents pointing where they must not: past the end of the filesystem,
# and onto blocks that belong to someone else (the inode table).  The
# map is built with warnings; no byte gets two owners.
source ./functions.sh
set -x
requires debugfs -V
requires python3 --version

mkdir -p $tmp/src
yes past | head -c 9000 > $tmp/src/past
yes steal | head -c 3000 > $tmp/src/steal
yes good | head -c 5000 > $tmp/src/good
$MKFS_EXT4 -b 1024 -d $tmp/src $tmp/disk.img 4M
itable=$(dumpe2fs $tmp/disk.img | sed -n 's/.*Inode table at \([0-9]*\)-.*/\1/p' | head -1)
# i_block[3..5] is the first extent: logical, length|start_hi, start_lo.
debugfs -w -f - $tmp/disk.img <<CMDS
sif /past block[5] 999999
sif /steal block[5] $itable
CMDS
debugfs -R "ex /past" $tmp/disk.img | grep -q 999999

virt-bmap -o $tmp/disk.bmap $tmp/disk.img 2> $tmp/err || r=$?
cat $tmp/err
test "${r:-0}" -eq 0
grep -q 'virt-bmap: warning:.*/past' $tmp/err
grep -q 'virt-bmap: warning:.*/steal' $tmp/err
virt-bmap export $tmp/disk.bmap --format tsv > $tmp/map.tsv
python3 $srcdir/ext2-check-coverage $tmp/map.tsv
# The intact file is still mapped exactly, by content.
mkdir $tmp/root
debugfs -R "rdump /good $tmp/root" $tmp/disk.img
awk -F'\t' '$6 == "/good"' $tmp/map.tsv > $tmp/good.tsv
python3 $srcdir/ext2-check-content $tmp/disk.img $tmp/good.tsv /dev/sda $tmp/root
