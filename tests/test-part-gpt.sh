#!/usr/bin/env bash
# GPT with entries 1, 3 and 5 used (Linux names them sda1, sda3, sda5)
# and ext4 in sda3.  The partitions agree with sfdisk --json, the
# tables are where the UEFI spec puts 128 entries, and the disk is
# tiled by its children.
source ./functions.sh
set -x
requires sfdisk --version
requires jq --version
source "$srcdir/part-functions.sh"

img=$tmp/disk.img
truncate -s 40M $img
sfdisk -q --no-reread $img <<EOF
label: gpt
1 : size=4M
3 : size=8M
5 : size=+
EOF
put_ext4 $img 3

map $img
test ! -s $tmp/warnings
oracle_parts $img > $tmp/expected
test "$(cut -d' ' -f1 $tmp/expected | tr '\n' ' ')" = "/dev/sda1 /dev/sda3 /dev/sda5 "
map_parts | diff -u $tmp/expected -

size=$(stat -c %s $img)
children /dev/sda /dev/sda1 /dev/sda3 /dev/sda5 | tiles 0 $size

last=$((size / 512 - 1))
children /dev/sda | grep -v '<unpartitioned>' > $tmp/tables
diff -u - $tmp/tables <<EOF
0 512 m <protective mbr>
512 1024 m <gpt header>
1024 17408 m <gpt entries>
$(( (last - 32) * 512 )) $(( last * 512 )) m <gpt backup entries>
$(( last * 512 )) $size m <gpt backup header>
EOF

s=$(part_field /dev/sda3 start)
grep -v '^#' $tmp/map.tsv |
    awk -F'\t' '$5 == "/dev/sda3" && $6 == "<superblock>" { print $2 }' |
    grep -qx $((s + 1024))
