#!/usr/bin/env bash
# XFS v5 (CRC) filesystems made by mkfs.xfs from a protofile
# (xfs-make-tree: files of many sizes, empty files, short and remote
# symlinks, directories in shortform, block, leaf and node/btree
# format, UTF-8 names): mkfs.xfs 6.1's defaults, then every optional
# feature (reflink, rmapbt, finobt, bigtime, inobtcount, sparse inode
# chunks) with 16 KiB directory blocks, then 1 KiB blocks.  Each map is
# checked by xfs-check-map against xfs_db (owner of every block, each
# file's bmap, free space) and every file rebuilt from the image.
source ./functions.sh
set -x -o pipefail
source "$srcdir/xfs-functions.sh"

img=$tmp/xfs.img
make_xfs $img 64M
check_xfs $img /dev/sda $src

make_xfs $img 96M -m reflink=1,rmapbt=1,finobt=1,bigtime=1,inobtcount=1 \
    -i sparse=1 -n size=16k
xfs_db -r -c version $img > $tmp/version
grep -q 'SPARSE_INODES,RMAPBT,REFLINK,INOBTCNT,BIGTIME' $tmp/version
check_xfs $img /dev/sda $src

make_xfs $img 64M -b size=1024
check_xfs $img /dev/sda $src
