#!/usr/bin/env bash
# XFS inside partitions: an MBR disk with a v5 filesystem in a partition
# that starts on an odd sector (not 4 KiB aligned) and a v4 one in a
# logical partition; each checked by xfs-check-map (xfs_db on the
# partition copied out; files rebuilt from the disk at the map's
# ranges).
source ./functions.sh
set -x -o pipefail
source "$srcdir/xfs-functions.sh"
requires sfdisk --version

img=$tmp/disk.img
truncate -s 200M $img
sfdisk -q --no-reread $img <<EOF2
label: dos
start=2049, size=131072, type=83
start=135168, type=5
start=137216, size=131072, type=83
EOF2
make_xfs $tmp/v5.img 64M
src5=$src
make_xfs $tmp/v4.img 64M -m crc=0
src4=$src
dd if=$tmp/v5.img of=$img bs=512 seek=2049 conv=notrunc,sparse status=none
dd if=$tmp/v4.img of=$img bs=512 seek=137216 conv=notrunc,sparse status=none
rm $tmp/v5.img $tmp/v4.img
check_xfs $img /dev/sda1 $src5
"$srcdir/xfs-check-map" $img $tmp/map.bmap /dev/sda5 $src4
