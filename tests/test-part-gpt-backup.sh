#!/usr/bin/env bash
# A GPT whose primary header or primary entry array is corrupt is read
# from the backup, with a warning; with both copies corrupt there is
# no partition table.  The oracle is sfdisk --json before the damage.
source ./functions.sh
set -x
requires sfdisk --version
requires jq --version
source "$srcdir/part-functions.sh"

good=$tmp/good.img
img=$tmp/disk.img
truncate -s 40M $good
sfdisk -q --no-reread $good <<EOF
label: gpt
,4M
,8M
,+
EOF
oracle_parts $good > $tmp/expected
test "$(wc -l < $tmp/expected)" -eq 3
size=$(stat -c %s $good)
last=$((size / 512 - 1))

from_backup ()
{
    map $img
    grep -q 'primary GPT is corrupt' $tmp/warnings
    grep -q 'using the backup' $tmp/warnings
    map_parts | diff -u $tmp/expected -
    children /dev/sda /dev/sda1 /dev/sda2 /dev/sda3 | tiles 0 $size
    # The damaged copy is still mapped where it lies.
    children /dev/sda | grep_q -x '512 1024 m <gpt header>'
    children /dev/sda | grep_q -x '1024 17408 m <gpt entries>'
}

# A byte of the primary header (its disk GUID): the header CRC fails.
cp $good $img
flip $img $((512 + 56))
from_backup

# A byte of the primary entry array: the array CRC fails.
cp $good $img
flip $img $((1024 + 40))
from_backup

# The signature of the primary header.
cp $good $img
flip $img 512
from_backup

# Both headers: no partition table, so no partitions and no tables.
cp $good $img
flip $img $((512 + 56))
flip $img $((last * 512 + 56))
map $img
grep -q 'both copies of the GPT are corrupt' $tmp/warnings
test -z "$(map_parts)"
test -z "$(children /dev/sda)"
