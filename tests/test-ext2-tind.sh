#!/usr/bin/env bash
# ext2 (no extents) with 1k blocks: a sparse file with blocks in the
# direct, indirect, double and triple indirect ranges (the triple range
# starts at block 12 + 256 + 65536, past 64 MiB).  The IND/DIND/TIND
# blocks must be flagged tree; blocks and holes agree with debugfs stat;
# the content (67 MiB, mostly holes) is rebuilt.
source ./functions.sh
set -x
requires debugfs -V
requires python3 --version

mkdir $tmp/src
f=$tmp/src/tind
repeat first 20000 > $f
repeat mid 2048 | dd of=$f bs=1024 seek=300 conv=notrunc
repeat last 3072 | dd of=$f bs=1024 seek=$((67 * 1024)) conv=notrunc
mkfs.ext2 -q -F -b 1024 -U $TEST_UUID -d $tmp/src $tmp/disk.img 4M
# The oracle agrees the file uses all levels of indirection.
debugfs -R "stat /tind" $tmp/disk.img > $tmp/stat
grep -q '(TIND)' $tmp/stat
ntree=$(grep -o '(D*T*IND)' $tmp/stat | wc -l)
test $ntree -eq 6

virt-bmap -o $tmp/disk.bmap $tmp/disk.img
$srcdir/ext2-check-map $tmp/disk.img $tmp/disk.bmap /dev/sda
virt-bmap query $tmp/disk.bmap --path /dev/sda:/tind > $tmp/tind.tsv
test "$(awk -F'\t' '$9 == "tree" { n += ($3 - $2) / 1024 } END { print n }' $tmp/tind.tsv)" -eq $ntree
# The last block: at file offset 67 MiB + 2 KiB.
test "$(awk -F'\t' '$8 != "-" { o = $8 + $3 - $2 } END { print o }' $tmp/tind.tsv)" -eq $(((67 * 1024 + 3) * 1024))
