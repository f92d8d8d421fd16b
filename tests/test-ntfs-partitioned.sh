#!/usr/bin/env bash
# An MBR disk with NTFS in partition 1 (at 1 MiB, the filesystem 6 MiB
# in an 8 MiB partition, its hidden-sectors field deliberately 0): the
# map must use the partition table's offset.  Checked by ntfs-check-map
# on the partition, the partition against sfdisk --json, the backup
# boot sector at the filesystem's end and the rest of the partition
# '<beyond filesystem>'.  The same volume in a GPT disk, at 2 MiB.
# Then primary boot sectors damaged: the backup is found where the
# filesystem (smaller than its partition) ends.
source ./functions.sh
set -x
requires_ntfs
requires ntfscp --version
requires sfdisk --version

truncate -s 6M $tmp/p1.img
mkntfs -F -Q -q -s 512 -c 4096 -p 0 -H 0 -S 0 $tmp/p1.img
repeat one 70000 > $tmp/f1
ntfscp -f $tmp/p1.img $tmp/f1 /f1
./ntfs-helper mkdir $tmp/p1.img /a
./ntfs-helper cp $tmp/p1.img $tmp/f1 /a/f2
truncate -s 12M $tmp/disk.img
sfdisk -q $tmp/disk.img <<'PARTS'
label: dos
start=2048, size=16384, type=7
PARTS
dd if=$tmp/p1.img of=$tmp/disk.img bs=512 seek=2048 conv=notrunc

virt-bmap -o $tmp/disk.bmap $tmp/disk.img 2> $tmp/warnings
cat $tmp/warnings
test ! -s $tmp/warnings
$srcdir/ntfs-check-map $tmp/disk.img $tmp/disk.bmap /dev/sda1
virt-bmap export $tmp/disk.bmap --format tsv > $tmp/map.tsv

start=$(sfdisk --json $tmp/disk.img | jq '.partitiontable.partitions[0].start * 512')
test "$start" -eq $((1024 * 1024))
awk -F'\t' -v s=$start '$5 == "/dev/sda1" && $4 == "p" && $2 == s { ok = 1 } END { exit !ok }' $tmp/map.tsv
# The backup boot sector is the last sector of the 6 MiB filesystem.
end=$((start + 6 * 1024 * 1024))
awk -F'\t' -v e=$end '$2 == e - 512 && $3 == e && $6 == "<$Boot>" { ok = 1 } END { exit !ok }' $tmp/map.tsv
cmp <(dd if=$tmp/disk.img bs=512 skip=$((end / 512 - 1)) count=1 status=none) \
    <(dd if=$tmp/p1.img bs=512 count=1 status=none)
# The 2 MiB after it are beyond the filesystem.
awk -F'\t' -v a=$end '$5 == "/dev/sda1" && $4 == "u" && $2 >= a { n += $3 - $2 }
    END { if (n != 2 * 1024 * 1024) exit 1 }' $tmp/map.tsv

# GPT: the same volume in partition 1 at 2 MiB.
truncate -s 12M $tmp/gpt.img
sfdisk -q $tmp/gpt.img <<'PARTS'
label: gpt
start=4096, size=12288, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7
PARTS
dd if=$tmp/p1.img of=$tmp/gpt.img bs=512 seek=4096 conv=notrunc
virt-bmap -o $tmp/gpt.bmap $tmp/gpt.img 2> $tmp/warnings
cat $tmp/warnings
test ! -s $tmp/warnings
$srcdir/ntfs-check-map $tmp/gpt.img $tmp/gpt.bmap /dev/sda1
test "$(sfdisk --json $tmp/gpt.img | jq '.partitiontable.partitions[0].start')" -eq 4096

# The primary boot sector wiped, the filesystem (6 MiB) smaller than
# its partition (8 MiB): the backup is not in the partition's last
# sector but in the filesystem's, before a 1 MiB boundary, where
# TestDisk looks.  The oracles read the intact image.
cp $tmp/disk.img $tmp/noboot.img
dd if=/dev/zero of=$tmp/noboot.img bs=512 seek=2048 count=1 conv=notrunc
virt-bmap -o $tmp/noboot.bmap $tmp/noboot.img 2> $tmp/warnings
cat $tmp/warnings
grep -q "backup boot sector in sector $((6 * 2048 - 1))\$" $tmp/warnings
$srcdir/ntfs-check-map $tmp/disk.img $tmp/noboot.bmap /dev/sda1

# A filesystem ending off any boundary (6 MiB + 3 KiB) in a 10 MiB
# GPT partition, only the primary's signature wiped: its count of
# sectors still says where the backup is (ntfsfix tries that).
truncate -s $((6 * 1024 * 1024 + 3072)) $tmp/p2.img
mkntfs -F -Q -q -s 512 -c 4096 -p 0 -H 0 -S 0 $tmp/p2.img
ntfscp -f $tmp/p2.img $tmp/f1 /f1
truncate -s 12M $tmp/gpt2.img
sfdisk -q $tmp/gpt2.img <<'PARTS'
label: gpt
start=2048, size=20480, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7
PARTS
dd if=$tmp/p2.img of=$tmp/gpt2.img bs=512 seek=2048 conv=notrunc
cp $tmp/gpt2.img $tmp/gpt2-bad.img
printf 'XXXXXXXX' | dd of=$tmp/gpt2-bad.img bs=1 seek=$((2048 * 512 + 3)) conv=notrunc
virt-bmap -o $tmp/gpt2.bmap $tmp/gpt2-bad.img 2> $tmp/warnings
cat $tmp/warnings
count=$(($(stat -c %s $tmp/p2.img) / 512 - 1))
grep -q "backup boot sector in sector $count\$" $tmp/warnings
$srcdir/ntfs-check-map $tmp/gpt2.img $tmp/gpt2.bmap /dev/sda1

# A backup further back than the bounded search goes (the filesystem
# 6 MiB at the start of a 300 MiB partition, its primary boot sector
# missing): nothing says it is NTFS, the partition is left whole.
truncate -s 302M $tmp/far.img
sfdisk -q $tmp/far.img <<'PARTS'
label: dos
start=2048, size=614400, type=7
PARTS
dd if=$tmp/p1.img of=$tmp/far.img bs=512 seek=2049 skip=1 conv=notrunc
virt-bmap -o $tmp/far.bmap $tmp/far.img 2> $tmp/warnings
cat $tmp/warnings
test ! -s $tmp/warnings
virt-bmap export $tmp/far.bmap --format tsv > $tmp/far.tsv
test "$(awk -F'\t' '$5 == "/dev/sda1" && $4 != "p"' $tmp/far.tsv | wc -l)" -eq 0
