#!/usr/bin/env bash
# A badly fragmented file with a depth-2 extent tree (1k blocks: a tree
# block holds 84 extents, so >336 extents need depth 2): fill the fs with
# 1-block files, delete every other one, then write a big file into the
# holes with debugfs.  The tree blocks must be flagged 'tree'.
source ./functions.sh
set -x
requires debugfs -V
requires python3 --version

mkdir -p $tmp/src/small
for i in $(seq 1000 1799); do printf "%01024d" $i > $tmp/src/small/f$i; done
$MKFS_EXT4 -b 1024 -d $tmp/src $tmp/disk.img 4M
awk 'BEGIN { for (i = 0; i < 12000; i++) printf "line %08d of a fragmented file\n", i }' > $tmp/big
{ for i in $(seq 1001 2 1799); do echo "rm /small/f$i"; done
  echo "write $tmp/big /big"; } > $tmp/cmds
debugfs -w -f $tmp/cmds $tmp/disk.img
# The oracle agrees that the tree has depth 2.
debugfs -R "ex /big" $tmp/disk.img > $tmp/ex
test "$(awk 'NR == 2 { print $2 }' $tmp/ex)" = 2
ntree=$(debugfs -R "stat /big" $tmp/disk.img | grep -o '(ETB[0-9]*)' | wc -l)
test $ntree -ge 6

virt-bmap -o $tmp/disk.bmap $tmp/disk.img
$srcdir/ext2-check-map $tmp/disk.img $tmp/disk.bmap /dev/sda
virt-bmap query $tmp/disk.bmap --path /dev/sda:/big > $tmp/big.tsv
test "$(awk -F'\t' '$9 == "tree" { n += ($3 - $2) / 1024 } END { print n }' $tmp/big.tsv)" -eq $ntree
cmp $tmp/big <(debugfs -R "cat /big" $tmp/disk.img)
