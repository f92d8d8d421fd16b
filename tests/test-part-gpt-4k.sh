#!/usr/bin/env bash
# A GPT with 4096-byte sectors (header at byte 4096), made by
# fdisk -b 4096: the partitions agree with fdisk -b 4096 -l, the
# tables are where the UEFI spec puts them in 4096-byte sectors (128
# entries: 4 sectors), and the disk is tiled.
source ./functions.sh
set -x
requires fdisk --version
source "$srcdir/part-functions.sh"

img=$tmp/disk.img
ss=4096
truncate -s 40M $img
# g: new GPT; n: partitions 1 (4 MiB) and 2 (the rest).
printf 'g\nn\n1\n\n+4M\nn\n2\n\n\nw\n' | fdisk -b $ss $img
test "$(od -An -c -j $ss -N 8 $img | tr -d ' ')" = EFIPART

map $img
test ! -s $tmp/warnings
fdisk -b $ss -l $img |
    awk -v img=$img -v ss=$ss 'index($1, img) == 1 {
        print "/dev/sda" substr($1, length(img) + 1), $2 * ss, ($3 + 1) * ss }' |
    sort > $tmp/expected
test "$(wc -l < $tmp/expected)" -eq 2
map_parts | diff -u $tmp/expected -

size=$(stat -c %s $img)
children /dev/sda /dev/sda1 /dev/sda2 | tiles 0 $size
last=$((size / ss - 1))
children /dev/sda | grep -v '<unpartitioned>' > $tmp/tables
diff -u - $tmp/tables <<EOF
0 $ss m <protective mbr>
$ss $((2 * ss)) m <gpt header>
$((2 * ss)) $((6 * ss)) m <gpt entries>
$(( (last - 4) * ss )) $(( last * ss )) m <gpt backup entries>
$(( last * ss )) $size m <gpt backup header>
EOF
