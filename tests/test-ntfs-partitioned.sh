#!/usr/bin/env bash
# An MBR disk with NTFS in partition 1 (at 1 MiB, the filesystem 6 MiB
# in an 8 MiB partition, its hidden-sectors field deliberately 0): the
# map must use the partition table's offset.  Checked by ntfs-check-map
# on the partition, the partition against sfdisk --json, the backup
# boot sector at the filesystem's end and the rest of the partition
# '<beyond filesystem>'.  The same volume in a GPT disk, at 2 MiB.
source ./functions.sh
set -x
requires mkntfs --version
requires ntfscp --version
requires sfdisk --version
requires fls -V
requires python3 --version

truncate -s 6M $tmp/p1.img
mkntfs -F -Q -q -s 512 -c 4096 -p 0 -H 0 -S 0 $tmp/p1.img
yes one | head -c 70000 > $tmp/f1
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
