#!/usr/bin/env bash
# An MBR disk with ext4 in partition 1 (at 1 MiB, the filesystem smaller
# than its partition) and ext2 in partition 2: the map must use the
# partition offsets.  debugfs reads each filesystem at its offset
# (IMAGE?offset=N); the space past the ext4's end is 'u'.
source ./functions.sh
set -x
requires debugfs -V
requires python3 --version
requires sfdisk --version

mkdir -p $tmp/src1/a $tmp/src2/b
repeat one 70000 > $tmp/src1/a/f1
ln -s a/f1 $tmp/src1/link
repeat two 30000 > $tmp/src2/b/f2
$MKFS_EXT4 -d $tmp/src1 $tmp/p1.img 6M
mkfs.ext2 -q -F -U $TEST_UUID -d $tmp/src2 $tmp/p2.img 4M
truncate -s 16M $tmp/disk.img
sfdisk -q $tmp/disk.img <<'PARTS'
label: dos
start=2048, size=16384, type=83
start=18432, size=8192, type=83
PARTS
dd if=$tmp/p1.img of=$tmp/disk.img bs=512 seek=2048 conv=notrunc
dd if=$tmp/p2.img of=$tmp/disk.img bs=512 seek=18432 conv=notrunc

virt-bmap -o $tmp/disk.bmap $tmp/disk.img
$srcdir/ext2-check-map $tmp/disk.img $tmp/disk.bmap /dev/sda1 /dev/sda2
# The partitions are where sfdisk put them.
virt-bmap export $tmp/disk.bmap --format tsv > $tmp/map.tsv
sfdisk --json $tmp/disk.img > $tmp/parts.json
python3 - $tmp/map.tsv $tmp/parts.json <<'PY'
import json, sys
rows = [l.split("\t") for l in open(sys.argv[1]) if not l.startswith("#")]
parts = json.load(open(sys.argv[2]))["partitiontable"]["partitions"]
for i, p in enumerate(parts, 1):
    got = [(int(r[1]), int(r[2])) for r in rows if r[3] == "p" and r[4] == f"/dev/sda{i}"]
    assert got == [(p["start"] * 512, (p["start"] + p["size"]) * 512)], (i, got, p)
PY
# 6 MiB of ext4 in an 8 MiB partition: 2 MiB past the filesystem's end.
awk -F'\t' -v a=$((1024 * 1024 + 6 * 1024 * 1024)) '
    $5 == "/dev/sda1" && $4 == "u" && $2 >= a { n += $3 - $2 }
    END { if (n != 2 * 1024 * 1024) exit 1 }' $tmp/map.tsv
