#!/usr/bin/env bash
# XFS as the kernel writes it (make-xfs-kernel-image, one appliance
# launch shared with test-bmaplog-xfs.sh): in a GPT partition and in an
# LVM LV, fragmented files with btree-format data forks, unwritten
# extents and preallocation past EOF, reflinked (shared) extents,
# sparse files, attribute forks, a btree-format directory, hard links,
# names with spaces and UTF-8, symlinks, freed and reused space.
# xfs_db first shows the image has each of them, then xfs-check-map
# checks both filesystems against xfs_db (every block's owner, every
# fork, unwritten and shared flags, free space) and every file rebuilt
# from the image against the file the kernel read (guestfish tar-out).
source ./functions.sh
set -x -o pipefail
source "$srcdir/xfs-functions.sh"
requires tar --version
requires jq --version
requires sqlite3 --version
kernel_images xfs

img=$tmp/disk.img
cp --sparse=always $kdir/disk.img $img
mkdir $tmp/p1 $tmp/lv
tar -C $tmp/p1 -xf $kdir/p1.tar
tar -C $tmp/lv -xf $kdir/lv.tar

# The image has what it should: xfs_db on partition 1.
read -r start size < <(sfdisk --json $img |
    jq -r '.partitiontable.partitions[0] | "\(.start) \(.size)"')
dd if=$img of=$tmp/p1.img bs=512 skip=$start count=$size conv=sparse status=none
# has PATH CMD REGEX: xfs_db's CMD on the inode at PATH prints REGEX.
has ()
{
    xfs_db -r -c "path $1" -c "$2" $tmp/p1.img > $tmp/db
    grep -q "$3" $tmp/db || fail "$1: $2 has no '$3'"
}
has /frag/a 'p core.format' btree
has /bigdir 'p core.format' btree
has /xattrs 'p core.aformat' extents
has /xattrs 'bmap -a' '^attr offset'
has /unwritten bmap 'flag 1$'
has /prealloc bmap 'data offset 256 .* flag 1$'
has /sparse 'p core.nextents' '= 3$'
has /symlong 'p core.format' extents
xfs_db -r -c 'agf 0' -c 'addr refcntroot' -c p $tmp/p1.img > $tmp/refc
grep -q '^[0-9]*:\[[0-9]*,[0-9]*,[2-9],0\]' $tmp/refc

# The map against xfs_db and the files.
check_xfs $img /dev/sda1 $tmp/p1
"$srcdir/xfs-check-map" $img $tmp/map.bmap /dev/xvg/xlv $tmp/lv

# The three names of the hard-linked file (its inode per xfs_db) are
# one object's.
xfs_db -r -c 'path /hardlink1' -c inode $tmp/p1.img > $tmp/ino
ino=$(sed -n 's/^current inode number is //p' $tmp/ino)
test -n "$ino"
sqlite3 $tmp/map.bmap "select path from objects where device = '/dev/sda1'
    and inode = $ino union all select n.path from names n join objects o
    on o.id = n.object where o.device = '/dev/sda1' and o.inode = $ino" |
    sort > $tmp/names
printf '%s\n' $'/d\303\251j\303\240 vu/hardlink2' /hardlink1 \
    "/with space/a file name with spaces" | sort > $tmp/want
diff -u $tmp/want $tmp/names

# A byte of a file in the LV: disk, partition, LV, file, outer first.
off=$(awk -F'\t' '$4 == "f" && $5 == "/dev/xvg/xlv" && $6 == "/dir/inlv" &&
                  $8 == 0 { print $2 }' $tmp/map.tsv)
test -n "$off"
virt-bmap query $tmp/map.bmap $off > $tmp/query
awk -F'\t' '{ print $3, $4, $5 }' $tmp/query > $tmp/kinds
diff -u - $tmp/kinds <<EOF2
v /dev/sda -
p /dev/sda2 -
l /dev/xvg/xlv -
f /dev/xvg/xlv /dir/inlv
EOF2
