#!/usr/bin/env bash
# The LVM image made by make-lvm-image-host (kept compressed in the tree,
# with what lvm said about it and the contents written): six PVs on one GPT
# disk, two VGs, linear, multi-segment, striped, raid1/10/4/5/6,
# mirror (core and disk log), thin pool and thin LVs, ext4 in five of
# them.  Checked against the oracle by lvm-check (objects, sizes, PV
# ranges, free extents, the contents of every LV as written)
# and every file of the ext4 LVs rebuilt from the map.
source ./functions.sh
set -x -o pipefail
requires xz --version
requires sfdisk --version
requires jq --version
source "$srcdir/part-functions.sh"

img=$tmp/lvm.img
xz -dc "$srcdir/lvm-image.xz" > $img
map $img
oracle_parts $img > $tmp/parts
"$srcdir/lvm-check" $img $tmp/map.bmap $tmp/map.tsv "$srcdir/lvm-oracle.txt" $tmp/parts

# The files written into the ext4 LVs (linear, three segments over two
# PVs, three stripes, thin, and in vg2).
"$srcdir/lvm-files" $tmp/files
for dev in /dev/vg1/lin /dev/vg1/frag /dev/vg1/str /dev/vg1/thin \
           /dev/vg2/root; do
    grep -q "	f	$dev	/numbers	" $tmp/map.tsv
    python3 "$srcdir/ext2-check-content" $img $tmp/map.tsv $dev $tmp/files
done
# lvm-files made the same files as in the appliance.
(cd $tmp/files && sha256sum numbers small middle) | sed 's|  |  /|' > $tmp/sums
grep '^file vg2/root ' "$srcdir/lvm-oracle.txt" | cut -d' ' -f3- |
    awk '{ print $2 "  " $1 }' | sort -k2 > $tmp/want
awk '{ print $1 "  " $2 }' $tmp/sums | sort -k2 > $tmp/have
grep -v link $tmp/want | diff -u - $tmp/have

# A byte of a file in the striped LV: disk, partition, the LV, the
# file, outer first.
off=$(awk -F'\t' '$4 == "f" && $5 == "/dev/vg1/str" && $6 == "/numbers" &&
                  $8 == 0 { print $2 }' $tmp/map.tsv)
virt-bmap query $tmp/map.bmap $off > $tmp/query
awk -F'\t' '{ print $3, $4, $5 }' $tmp/query > $tmp/kinds
grep -q '^v /dev/sda -$' $tmp/kinds
grep -q '^p /dev/sda[1-3] -$' $tmp/kinds
grep -q '^l /dev/vg1/str -$' $tmp/kinds
grep -q '^f /dev/vg1/str /numbers$' $tmp/kinds

# A byte of a file in the thin LV: the pool's data, the pool, the thin
# LV, the file.
off=$(awk -F'\t' '$4 == "f" && $5 == "/dev/vg1/thin" && $6 == "/numbers" &&
                  $8 == 0 { print $2 }' $tmp/map.tsv)
virt-bmap query $tmp/map.bmap $off > $tmp/query
awk -F'\t' '$3 == "l" || $3 == "f" { print $3, $4, $5 }' $tmp/query > $tmp/kinds
diff -u - $tmp/kinds <<EOF2
l /dev/vg1/pool_tdata -
l /dev/vg1/pool -
l /dev/vg1/thin -
f /dev/vg1/thin /numbers
EOF2

# Nothing warns.
test ! -s $tmp/warnings
