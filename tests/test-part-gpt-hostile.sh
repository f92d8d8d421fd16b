#!/usr/bin/env bash
# Hostile GPTs, edited with their CRCs fixed (python's zlib.crc32 is
# the CRC oracle): a huge entry count, a partition past the end of the
# disk, one that ends before it starts, one that starts far beyond the
# disk.  Warnings, no crash, the disk still tiled.
source ./functions.sh
set -x
requires sfdisk --version
requires jq --version
requires python3 --version
source "$srcdir/part-functions.sh"

# gpt_set IMG COPY WHAT VALUE: sets a field of the primary (COPY 1) or
# backup (COPY -1) GPT and fixes the CRCs.  WHAT is num_entries, or
# I.first / I.last for entry I (from 0).
gpt_set ()
{
    python3 - "$@" <<'EOF'
import struct, sys, zlib
img, copy, what, value = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
with open(img, 'r+b') as f:
    f.seek(0, 2)
    lba = 1 if copy == 1 else f.tell() // 512 - 1
    f.seek(lba * 512)
    h = bytearray(f.read(512))
    hsize, = struct.unpack_from('<I', h, 12)
    entries, n, esize = struct.unpack_from('<QII', h, 72)
    if what == 'num_entries':
        struct.pack_into('<I', h, 80, value)
    else:
        i, field = what.split('.')
        f.seek(entries * 512)
        a = bytearray(f.read(n * esize))
        struct.pack_into('<Q', a, int(i) * esize + (32 if field == 'first' else 40), value)
        struct.pack_into('<I', h, 88, zlib.crc32(a))
        f.seek(entries * 512)
        f.write(a)
    struct.pack_into('<I', h, 16, 0)
    struct.pack_into('<I', h, 16, zlib.crc32(h[:hsize]))
    f.seek(lba * 512)
    f.write(h)
EOF
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

# sda2 ends before it starts; sda1 starts at 2^63.
cp $good $img
s2=$(part_field /dev/sda2 start)
both 1.last $((s2 / 512 - 2))
both 0.first 9223372036854775808
both 0.last 9223372036854775908
map $img
grep -q '/dev/sda2 ends .* before it starts' $tmp/warnings
grep -q '/dev/sda1 starts at byte .*, outside /dev/sda' $tmp/warnings
grep '^/dev/sda3 ' $tmp/expected | diff -u - <(map_parts)
children /dev/sda /dev/sda3 | tiles 0 $size
