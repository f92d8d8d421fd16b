#!/usr/bin/env bash
# XFS with sparse inode chunks, as the kernel makes them when free
# space is too fragmented for a whole aligned chunk
# (make-xfs-sparse-image, one appliance launch).  xfs_db first shows
# the inode btree has records with a nonzero holemask (chunks whose
# holes are not inodes: here blocks of /fill's data); then
# xfs-check-map checks the map against xfs_db (every block's owner,
# free space, every fork) and every file rebuilt from the image
# against the file the kernel read.
source ./functions.sh
set -x -o pipefail
source "$srcdir/xfs-functions.sh"
requires guestfish --version
requires tar --version
requires sqlite3 --version

"$srcdir/make-xfs-sparse-image" $tmp/k
img=$tmp/disk.img
mv $tmp/k/disk.img $img
mkdir $tmp/fs
tar -C $tmp/fs -xf $tmp/k/fs.tar

# inobt_recs CMDS...: the records of the inode btree of AG 0 under the
# node CMDS lead to, "startino holemask count" a line.
inobt_recs ()
{
    local text level n i
    text=$(xfs_db -r -c 'agi 0' "$@" -c p $img)
    level=$(sed -n 's/^level = //p' <<< "$text")
    if [ "$level" = 0 ]; then
        sed -n 's/^[0-9]*:\[\([0-9]*\),\([0-9a-fx]*\),\([0-9]*\),.*/\1 \2 \3/p' <<< "$text"
        return
    fi
    test -n "$level" || fail "inobt node without a level"
    n=$(sed -n 's/^ptrs\[1-\([0-9]*\)\].*/\1/p' <<< "$text")
    test -n "$n" || fail "inobt node without ptrs"
    for i in $(seq 1 $n); do
        inobt_recs "$@" -c "addr ptrs[$i]"
    done
}
inobt_recs -c 'addr root' > $tmp/recs
cat $tmp/recs
# Sparse chunks: a holemask with a bit set, and fewer than 64 inodes.
awk '$2 != "0" && $3 < 64 { n++ } END { exit !(n > 0) }' $tmp/recs ||
    fail "no sparse inode chunk in the image"
# Some of the files are in them (allocated inodes of sparse chunks).
awk '$2 != "0" { print $1 }' $tmp/recs > $tmp/sparse
test -s $tmp/sparse

check_xfs $img /dev/sda $tmp/fs

# The inodes of the sparse chunks hold files of the map.
sqlite3 $tmp/map.bmap "select distinct inode from objects
    where device = '/dev/sda' and inode is not null" | sort -n > $tmp/inodes
awk 'NR == FNR { s[$1] = 1; next }
     { c = $1 - $1 % 64; if (c in s) n++ }
     END { print n + 0; exit !(n > 0) }' $tmp/sparse $tmp/inodes
