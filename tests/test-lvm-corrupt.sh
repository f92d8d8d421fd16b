#!/usr/bin/env bash
# Broken and hostile LVM metadata on the image of test-lvm-image.sh:
# each gives clear warnings and a partial map, never a failure, a
# crash or a hang.  Texts are edited with lvm-edit, which keeps their
# checksums right (so that the reader has to cope with the text
# itself) and gives them a higher seqno, so that they win.
source ./functions.sh
set -x -o pipefail
requires xz --version
requires sfdisk --version
requires jq --version
source "$srcdir/part-functions.sh"

orig=$tmp/orig.img
xz -dc "$srcdir/lvm-image.xz" > $orig
oracle_parts $orig > $tmp/parts
sda1=$(awk '$1 == "/dev/sda1" { print $2 }' $tmp/parts)
sda2=$(awk '$1 == "/dev/sda2" { print $2 }' $tmp/parts)
img=$tmp/disk.img
"$srcdir/lvm-files" $tmp/files

# The linear LV on sda1 keeps its files whatever happens elsewhere.
lin_ok ()
{
    python3 "$srcdir/ext2-check-content" $img $tmp/map.tsv /dev/vg1/lin \
        $tmp/files
}

# hostile SED-SCRIPT: the metadata of sda1 edited by sed, seqno 1000.
hostile ()
{
    cp $orig $img
    "$srcdir/lvm-edit" $img $sda1 get > $tmp/text
    sed -e 's/^seqno = .*/seqno = 1000/' -e "$1" $tmp/text > $tmp/text.new
    cmp -s $tmp/text $tmp/text.new && fail "sed changed nothing: $1"
    "$srcdir/lvm-edit" $img $sda1 put < $tmp/text.new
    map $img
}

# A damaged text on one PV: the copies of the other PVs are used.
cp $orig $img
"$srcdir/lvm-edit" $img $sda1 get > $tmp/text
off=$(grep -abo 'logical_volumes' $tmp/text | head -1 | cut -d: -f1)
"$srcdir/lvm-edit" $img $sda1 flip $off
"$srcdir/lvm-edit" $img $sda1 get | grep_q 'Logical_volumes'
map $img
grep -q '/dev/sda1: LVM metadata area 0: bad checksum of the metadata text' \
    $tmp/warnings
"$srcdir/lvm-check" $img $tmp/map.bmap $tmp/map.tsv "$srcdir/lvm-oracle.txt" $tmp/parts

# A bad label checksum: sda2 is no PV, the VG misses it.
cp $orig $img
printf 'X' | dd of=$img bs=1 seek=$((sda2 + 512 + 200)) conv=notrunc
test "$("$srcdir/lvm-edit" $img $sda2 label-crc)" = bad
map $img
grep -q '/dev/sda2: bad checksum of the LVM label in sector 1' $tmp/warnings
grep -q 'VG vg1: PV pv1 (.*) is missing' $tmp/warnings
grep -q '/dev/vg1/str: .* bytes of the LV lie on no PV present' $tmp/warnings
lin_ok

# Stripe counts of 0 and 2^31.
hostile '/^str {/,/^}/s/stripe_count = 3/stripe_count = 0/'
grep -q '/dev/vg1/str: segment1: invalid stripe, image or leg count' \
    $tmp/warnings
lin_ok
hostile '/^str {/,/^}/s/stripe_count = 3/stripe_count = 2147483648/'
grep -q '/dev/vg1/str: segment1: invalid stripe, image or leg count' \
    $tmp/warnings

# Extents past the end of the PV.
hostile '/^lin {/,/^}/s/"pv0", 0/"pv0", 1000000/'
grep -q '/dev/vg1/lin: .* bytes of the LV lie on no PV present' \
    $tmp/warnings

# A loop: an image of r1 made of r1 itself.
hostile '/^r1_rimage_0 {/,/^}/s/"pv[0-9]*", [0-9]*/"r1", 0/'
grep -q 'refer back to it' $tmp/warnings
lin_ok

# A PV of the VG that is nowhere.
hostile 's/^physical_volumes {/physical_volumes {\npv9 {\nid = "zzzzzz-zzzz-zzzz-zzzz-zzzz-zzzz-zzzzzz"\ndevice = "\/dev\/sdz"\npe_start = 2048\npe_count = 1000000000\n}/; /^lin {/,/^}/s/"pv0", 0/"pv9", 5/'
grep -q 'VG vg1: PV pv9 (/dev/sdz) is missing' $tmp/warnings
grep -q '/dev/vg1/lin: .* bytes of the LV lie on no PV present' \
    $tmp/warnings

# An LV of 3 * 2^40 extents: the layout stops at its budget.
hostile '/^str {/,/^}/s/extent_count = 6/extent_count = 3298534883328/'
grep -q '/dev/vg1/str: .* not mapped' $tmp/warnings
lin_ok

# Text that does not parse, with a good checksum: the other PVs'
# copies of the VG are used.
hostile 's/^logical_volumes {/logical_volumes { "/'
grep -q '/dev/sda1: LVM metadata area 0: metadata text, line [0-9]*: ' \
    $tmp/warnings
"$srcdir/lvm-check" $img $tmp/map.bmap $tmp/map.tsv "$srcdir/lvm-oracle.txt" $tmp/parts

# Thin pool metadata: no superblock, then a mapping tree root outside
# the metadata.  The thin LV warns and keeps no blocks; the rest holds.
oracle="$srcdir/lvm-oracle.txt"
range=$(awk -F'|' '$2 == "[pool_tmeta]" { print $6 }' "$oracle")
pv=${range%%:*}
pe=${range#*:}
pe=${pe%-*}
pe_start=$(awk -F'|' -v pv=$pv '$1 == pv { print $3 }' "$oracle")
es=$(awk -F'|' -v pv=$pv '$1 == pv { print $6 }' "$oracle")
tmeta=$(( $(awk -v pv=$pv '$1 == pv { print $2 }' $tmp/parts) +
          pe_start + pe * es ))
cp $orig $img
test "$(od -An -tu4 -j $((tmeta + 32)) -N4 $img | tr -d ' ')" = 27022010
printf '\0' | dd of=$img bs=1 seek=$((tmeta + 32)) conv=notrunc
map $img
grep -q '/dev/vg1/thin: thin volume: no thin pool superblock' $tmp/warnings
grep -q '	/dev/vg1/thin	' $tmp/map.tsv && fail "thin LV mapped"
lin_ok
cp $orig $img
printf '\377\377\377\377' | dd of=$img bs=1 seek=$((tmeta + 320)) conv=notrunc
map $img
grep -q '/dev/vg1/thin: thin volume: thin pool metadata block .*: points outside the metadata' \
    $tmp/warnings
lin_ok
