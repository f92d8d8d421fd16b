#!/usr/bin/env bash
# MBR: three primaries and an extended partition (sda3) with three
# logicals, ext4 in sda1 and sda6, free space at the end of the
# extended partition and of the disk.  The partitions agree with
# sfdisk --json, the disk and the extended partition are tiled by
# their children, and each logical has its EBR in front of it.
source ./functions.sh
set -x
requires sfdisk --version
requires jq --version
source "$srcdir/part-functions.sh"

img=$tmp/disk.img
truncate -s 40M $img
sfdisk -q --no-reread $img <<EOF
label: dos
,4M,83
,4M,83
,24M,E
,4M,83
,8M,83
,4M,83
,4M,83
EOF
put_ext4 $img 1
put_ext4 $img 6

map $img
test ! -s $tmp/warnings
oracle_parts $img > $tmp/expected
test "$(wc -l < $tmp/expected)" -eq 7
map_parts | diff -u $tmp/expected -

size=$(stat -c %s $img)
children /dev/sda /dev/sda1 /dev/sda2 /dev/sda3 /dev/sda4 | tiles 0 $size
children /dev/sda | grep_q -x '0 512 m <partition table>'
ext_start=$(part_field /dev/sda3 start)
ext_end=$(part_field /dev/sda3 end)
children /dev/sda3 /dev/sda5 /dev/sda6 /dev/sda7 | tiles $ext_start $ext_end

# In chain order: EBR, its logical, EBR, its logical...; each EBR is a
# sector with the boot signature, the first at the start of sda3.
children /dev/sda3 /dev/sda5 /dev/sda6 /dev/sda7 |
    awk '$3 != "u" { print $4 }' | tr '\n' ' ' > $tmp/order
test "$(cat $tmp/order)" = "<ebr> /dev/sda5 <ebr> /dev/sda6 <ebr> /dev/sda7 "
children /dev/sda3 | awk '$4 == "<ebr>" { print $1, $2 }' > $tmp/ebrs
test "$(head -1 $tmp/ebrs)" = "$ext_start $((ext_start + 512))"
while read -r start end; do
    test $((end - start)) -eq 512
    test "$(od -An -tx1 -j $((start + 510)) -N2 $img | tr -d ' ')" = 55aa
done < $tmp/ebrs

# A byte of sda6 is in the disk, the extended partition and sda6,
# outer first, at its offset in each.
s6=$(part_field /dev/sda6 start)
virt-bmap query $tmp/map.bmap $((s6 + 5000)) | cut -f3,4,7 | sed -n 1,3p > $tmp/hits
printf 'v\t/dev/sda\t%d\np\t/dev/sda3\t%d\np\t/dev/sda6\t5000\n' \
       $((s6 + 5000)) $((s6 + 5000 - ext_start)) | diff -u - $tmp/hits

# The filesystems were found where the partitions start.
for n in 1 6; do
    s=$(part_field /dev/sda$n start)
    grep -v '^#' $tmp/map.tsv |
        awk -F'\t' -v d=/dev/sda$n '$5 == d && $6 == "<superblock>" { print $2 }' |
        grep -qx $((s + 1024))
done
