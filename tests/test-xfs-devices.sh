#!/usr/bin/env bash
# XFS with parts on other devices, which a map of one disk cannot
# hold: a realtime section and an external log (mkfs.xfs -r rtdev=,
# -l logdev=, the protofile tree on the data device).  Each gives one
# clear warning, and the data device is still mapped exactly
# (xfs-check-map: xfs_db given the log device too, and the files).
source ./functions.sh
set -x -o pipefail
source "$srcdir/xfs-functions.sh"

img=$tmp/xfs.img
truncate -s 16M $tmp/rt.img
make_xfs $img 64M -r rtdev=$tmp/rt.img
xfs_db -r -c 'sb 0' -c 'p rblocks' $img > $tmp/sb
grep -q '^rblocks = 4096$' $tmp/sb
map $img
test "$(wc -l < $tmp/warnings)" = 1
grep -qi 'realtime' $tmp/warnings
"$srcdir/xfs-check-map" $img $tmp/map.bmap /dev/sda $src

truncate -s 16M $tmp/log.img
make_xfs $img 64M -l logdev=$tmp/log.img,size=8m
map $img
test "$(wc -l < $tmp/warnings)" = 1
grep -qi 'log' $tmp/warnings
XFS_DB_ARGS="-l $tmp/log.img" "$srcdir/xfs-check-map" $img $tmp/map.bmap /dev/sda $src
