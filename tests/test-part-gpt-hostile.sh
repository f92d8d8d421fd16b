#!/usr/bin/env bash
# Hostile GPTs, edited with their CRCs fixed (gzip's CRC-32 is the
# oracle, see crc32 in part-functions.sh): a huge entry count, a
# partition past the end of the disk, one that ends before it starts,
# one that starts far beyond the disk.  Warnings, no crash, the disk
# still tiled.
source ./functions.sh
set -x
requires sfdisk --version
requires jq --version
source "$srcdir/part-functions.sh"

# gpt_set IMG COPY WHAT VALUE: sets a field of the primary (COPY 1) or
# backup (COPY -1) GPT and fixes the CRCs.  WHAT is num_entries, or
# I.first / I.last for entry I (from 0).
gpt_set ()
{
    local img=$1 what=$3 value=$4 hdr entries n esize
    if [ "$2" = 1 ]; then hdr=512
    else hdr=$(( $(stat -c %s $img) / 512 * 512 - 512 )); fi
    entries=$(( $(get_le32 $img $((hdr + 72))) * 512 ))
    n=$(get_le32 $img $((hdr + 80)))
    esize=$(get_le32 $img $((hdr + 84)))
    case $what in
        num_entries) put_le32 $img $((hdr + 80)) $value ;;
        *.first) put_le64 $img $((entries + ${what%.*} * esize + 32)) $value ;;
        *.last) put_le64 $img $((entries + ${what%.*} * esize + 40)) $value ;;
    esac
    bytes $img $entries $((n * esize)) | crc32 |
        dd of=$img bs=1 seek=$((hdr + 88)) conv=notrunc status=none
    put_le32 $img $((hdr + 16)) 0
    bytes $img $hdr $(get_le32 $img $((hdr + 12))) | crc32 |
        dd of=$img bs=1 seek=$((hdr + 16)) conv=notrunc status=none
}
both () { gpt_set $img 1 "$@"; gpt_set $img -1 "$@"; }

good=$tmp/good.img
img=$tmp/disk.img
truncate -s 20M $good
sfdisk -q --no-reread $good <<EOF
label: gpt
,4M
,4M
,+
EOF
oracle_parts $good > $tmp/expected
size=$(stat -c %s $good)
last=$((size / 512 - 1))

# 2^31 entries in the primary: refused, the backup is used.
cp $good $img
gpt_set $img 1 num_entries 2147483648
map $img
grep -q 'primary GPT is corrupt.*invalid entry array' $tmp/warnings
map_parts | diff -u $tmp/expected -
children /dev/sda /dev/sda1 /dev/sda2 /dev/sda3 | tiles 0 $size

# sda3 ends 1000 sectors past the end of the disk: clipped, and over
# the backup GPT.
cp $good $img
both 2.last $((last + 1000))
map $img
grep -q '/dev/sda3 .* is outside the usable area' $tmp/warnings
grep -q '/dev/sda3 extends beyond the end of /dev/sda' $tmp/warnings
grep -q 'overlaps /dev/sda3' $tmp/warnings
s3=$(part_field /dev/sda3 start)
{ grep -v '^/dev/sda3 ' $tmp/expected; echo "/dev/sda3 $s3 $size"; } |
    diff -u - <(map_parts)
children /dev/sda /dev/sda1 /dev/sda2 /dev/sda3 | tiles --overlaps 0 $size

# sda2 ends before it starts; sda1 starts at LBA 2^62.
cp $good $img
s2=$(part_field /dev/sda2 start)
both 1.last $((s2 / 512 - 2))
both 0.first 4611686018427387904
both 0.last 4611686018427388004
map $img
grep -q '/dev/sda2 ends .* before it starts' $tmp/warnings
grep -q '/dev/sda1 starts at LBA 4611686018427387904, beyond the end' $tmp/warnings
test "$(grep -c /dev/sda1 $tmp/warnings)" -eq 1
grep '^/dev/sda3 ' $tmp/expected | diff -u - <(map_parts)
children /dev/sda /dev/sda3 | tiles 0 $size
