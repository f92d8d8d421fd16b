#!/usr/bin/env bash
# btrfs as the kernel writes it (make-btrfs-kernel-image): one device in
# a GPT partition at an odd sector, DUP metadata, subvolumes @ and
# @home, a snapshot of @home changed afterwards, reflinks, zlib, lzo and
# zstd extents (inline ones too), preallocated, sparse and fragmented
# files, a hard link, a directory of 3000 entries, xattrs, and every
# chunk moved by a full balance.  dump-tree first shows the image has
# each of them (and that no chunk is where logical == physical), then
# btrfs-check-map checks the map against dump-tree and btrfs-map-logical
# and every file against the one the kernel read.  Maps broken on
# purpose (a file extent moved, the compressed flag dropped, the shared
# flag dropped, a copy of DUP metadata missing, the extent tree's blocks
# named after another tree) must fail the checker.
source ./functions.sh
set -x -o pipefail
source "$srcdir/btrfs-functions.sh"
btrfs_kernel_disk
btrfs_kernel_files

# The image has what it should.
sfdisk --json $img | jq -e '.partitiontable.partitions[0].start == 3333'
btrfs inspect-internal dump-tree $tmp/p1.img > $tmp/dump
has () { grep -E -q "$1" $tmp/dump || fail "dump-tree has no '$1'"; }
has 'type METADATA\|DUP$'
has 'type 2 \(prealloc\)'
has '^		extent compression 1 \(zlib\)'
has '^		extent compression 2 \(lzo\)'
has '^		extent compression 3 \(zstd\)'
has 'inline extent data size [0-9]+ ram_bytes [0-9]+ compression 0'
has 'inline extent data size [0-9]+ ram_bytes [0-9]+ compression [13]'
has 'root ref key dirid 256 sequence [0-9]+ name @home-snap$'
has 'shared data backref parent'
has 'extent data backref root 258 '
has 'XATTR_ITEM'
has 'DIR_INDEX 3002\)'
# Every chunk moved: logical != physical in each stripe.
awk '/CHUNK_ITEM/ { split($0, k, /[ )]/); for (i in k) if (k[i] == "CHUNK_ITEM") l = k[i + 1]; n++ }
     /^\t\t\tstripe [0-9]+ devid/ { if ($6 == l) same++ }
     END { print n, same + 0; if (n < 3 || same) exit 1 }' $tmp/dump
# A hard link: one inode, two names.
grep -E -A2 'INODE_ITEM 0\) itemoff' $tmp/dump | grep_q 'links 2 '

# The map against the oracles.
map $img
check_btrfs $tmp/src /dev/sda1 || fail "the map is not the oracle's"

# What the map holds beyond the checker's view: the snapshot's file is
# there by its path, with both names of the hard link.
sqlite3 $tmp/map.bmap "select count(*) from objects where path =
    '/@home-snap/user/photo.bin' and kind = 'f'" > $tmp/n
test "$(cat $tmp/n)" = 1

# Broken maps fail the checker.
mutant moved "update extents set start = start + 4096, end = end + 4096
    where id = (select e.id from extents e join objects o on o.id = e.object
                where o.path = '/@/usr/bin/prog' and e.flags & 36 = 0 limit 1)"
expect_fail "$srcdir/btrfs-check-map" $tmp/moved.bmap $tmp/src /dev/sda1
mutant uncompressed "update extents set flags = flags & ~32 where flags & 32"
expect_fail "$srcdir/btrfs-check-map" $tmp/uncompressed.bmap $tmp/src /dev/sda1
mutant unshared "update extents set flags = flags & ~128 where flags & 128"
expect_fail "$srcdir/btrfs-check-map" $tmp/unshared.bmap $tmp/src /dev/sda1
mutant onecopy "delete from extents where id in (select e.id from extents e
    join objects o on o.id = e.object where o.kind = 'm' and
    o.path like '%tree%' order by e.start desc limit 3)"
expect_fail "$srcdir/btrfs-check-map" $tmp/onecopy.bmap $tmp/src /dev/sda1
mutant mistree "update objects set path = '<csum tree>' where path like '<extent tree%'"
expect_fail "$srcdir/btrfs-check-map" $tmp/mistree.bmap $tmp/src /dev/sda1
