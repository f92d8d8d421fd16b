#!/usr/bin/env bash
# XFS v4 (no CRC: the older headers of every btree block, directory
# block and inode) filesystems made by mkfs.xfs from the protofile of
# xfs-make-tree, with 4 KiB then 512-byte blocks (and 256-byte inodes),
# checked by xfs-check-map against xfs_db and the files written.
source ./functions.sh
set -x -o pipefail
source "$srcdir/xfs-functions.sh"

img=$tmp/xfs.img
make_xfs $img 64M -m crc=0
xfs_db -r -c version $img > $tmp/version
if grep -q CRC $tmp/version; then fail "not v4"; fi
check_xfs $img /dev/sda $src

make_xfs $img 64M -m crc=0 -b size=512 -i size=256
check_xfs $img /dev/sda $src
