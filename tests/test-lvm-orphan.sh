#!/usr/bin/env bash
# A PV in no VG (pvcreate on a whole 8 MiB disk, nothing else; made as
# root with "losetup -f --show disk.img; lvm pvcreate /dev/loopN", and
# lvm-orphan-pvck.txt is "lvm pvck --dump headers" of it): no
# warning, its label and metadata area where pvck found them, its
# data area free, the rest unused, and the disk tiled.
source ./functions.sh
set -x -o pipefail
requires xz --version
source "$srcdir/part-functions.sh"

img=$tmp/orphan.img
xz -dc "$srcdir/lvm-orphan.xz" > $img
map $img
test ! -s $tmp/warnings
pvck="$srcdir/lvm-orphan-pvck.txt"
label=$(awk '$1 == "label_header" && $2 == "at" { print $3 }' "$pvck")
data=$(awk '$1 == "pv_header.disk_locn[0].offset" { print $2 }' "$pvck")
mda=$(awk '$1 == "pv_header.disk_locn[2].offset" { print $2 }' "$pvck")
mda_size=$(awk '$1 == "pv_header.disk_locn[2].size" { print $2 }' "$pvck")
size=$(stat -c %s $img)
children /dev/sda > $tmp/children
diff -u - $tmp/children <<EOF2
0 $label u <lvm unused>
$label $((label + 512)) m <lvm label>
$((label + 512)) $mda u <lvm unused>
$mda $((mda + mda_size)) m <lvm metadata area>
$data $size u <lvm free extents>
EOF2
tiles 0 $size < $tmp/children
