#!/usr/bin/env bash
# Hostile XFS metadata, written with xfs_db in expert mode into copies
# of v5 images (mostly with valid CRCs, so that the values themselves
# are met): superblock (AG count 2^31-1, 2^40 blocks, block size 0,
# root inode 0), AGF/AGI (btree root past the end, btree 40 levels
# deep, bad CRC, an inode btree root pointing to itself), inodes (2^31-1
# extents and one past the end, a bmap btree node pointing to itself, a
# bad CRC), a directory entry pointing to the root (a loop), a
# directory block of zeroes, the refcount btree's root past the end, a
# reverse-map btree block with a bad CRC, a truncated image.  Each map
# is made under timeout: no crash, no hang (xfs_db itself loops on the
# btree loop), a warning, the input unchanged, a partial map (a file
# away from the damage still mapped) and every file the map still
# holds (but the broken ones) rebuilt from the image equals its source.
source ./functions.sh
set -x -o pipefail
source "$srcdir/xfs-functions.sh"
requires timeout --version

make_xfs $tmp/base.img 64M

# hostile NAME WARNING-REGEX [BROKEN-PATH...] < XFS_DB-COMMANDS: a copy
# of the image changed by the commands (one per line), mapped; the
# warnings must match WARNING-REGEX (case ignored); the files of the
# map but BROKEN-PATH... are checked against the sources.
hostile ()
{
    local name=$1 re=$2 img=$tmp/$1.img r=0 cmds=()
    shift 2
    cp ${base:-$tmp/base.img} $img
    while read -r line; do
        [ -n "$line" ] && cmds+=(-c "$line")
    done
    if [ ${#cmds[@]} -gt 0 ]; then
        xfs_db -x "${cmds[@]}" $img > $tmp/db.out 2>&1 || :
        cat $tmp/db.out
    fi
    if [ ${#cmds[@]} -gt 0 ] && cmp -s $img ${base:-$tmp/base.img}; then
        fail "$name: the image did not change"
    fi
    sha256sum < $img > $tmp/sum
    timeout 300 virt-bmap -o $tmp/$name.bmap $img 2> $tmp/err || r=$?
    cat $tmp/err
    if [ $r -ge 124 ]; then fail "$name: virt-bmap exit status $r (crash or hang)"; fi
    if [ $r -ne 0 ]; then fail "$name: virt-bmap exit status $r"; fi
    sha256sum < $img | cmp -s - $tmp/sum || fail "$name: the image was modified"
    grep -qi "warning:.*$re" $tmp/err || fail "$name: no warning matching '$re'"
    virt-bmap export $tmp/$name.bmap --format tsv -o $tmp/$name.tsv
    # The files still mapped are right, the broken ones aside.
    printf '%s\n' "$@" > $tmp/broken
    awk -F'\t' 'NR == FNR { broken[$0] = 1; next }
        /^#/ || !($6 in broken)' $tmp/broken $tmp/$name.tsv > $tmp/good.tsv
    if grep -q $'\tf\t/dev/sda\t' $tmp/good.tsv; then
        python3 "$srcdir/ext2-check-content" $img $tmp/good.tsv /dev/sda $src
    fi
    # whole=1: the map must be the undamaged filesystem's, exactly.
    if [ -n "${whole:-}" ]; then
        XFS_DB_IMAGE=$tmp/base.img "$srcdir/xfs-check-map" $img $tmp/$name.bmap \
            /dev/sda $src
    fi
    rm $img
}

# still NAME PATH: the map of case NAME holds the file PATH (a partial
# map, not an empty one).
still ()
{
    grep -q "	f	/dev/sda	$2	" $tmp/$1.tsv || fail "$1: $2 is not mapped"
}

# Superblock: the primary's values out of range, so that its copy in
# AG 1 gives the whole map back; a root inode 0, so that the first
# directory is taken for the root, the whole map too.
whole=1
hostile agcount 'ag' <<CMDS
sb 0
write -d agcount 2147483647
CMDS
hostile dblocks 'block' <<CMDS
sb 0
write -d dblocks 1099511627776
CMDS
hostile blocksize 'block' <<CMDS
sb 0
write -d blocksize 0
CMDS
hostile rootino 'ino' <<CMDS
sb 0
write -d rootino 0
CMDS
whole=

# AG headers and their btrees.
hostile agf-bnoroot 'AG 1' <<CMDS
agf 1
write -d bnoroot 4000000000
CMDS
hostile agi-level 'AG 2' <<CMDS
agi 2
write -d level 40
CMDS
hostile agf-crc 'crc' <<CMDS
agf 3
write -c freeblks 5
CMDS

# An inode btree whose root points to itself.
xfs_db -r -c 'agi 1' -c 'p root' $tmp/base.img > $tmp/root
root=$(sed -n 's/^root = //p' $tmp/root)
test -n "$root"
hostile inobt-loop 'inode btree' <<CMDS
agi 1
write -d level 2
addr root
write -d level 1
write -d numrecs 1
type inobt
write -d ptrs[1] $root
CMDS
for c in agf-bnoroot agi-level agf-crc inobt-loop; do
    still $c /utf8/ünïcødé-文件
done

# Inodes.
hostile nextents 'size-100000' /files/size-100000 <<CMDS
path /files/size-100000
write -d core.nextents 2147483647
write -d u3.bmx[0].startblock 99999999
CMDS
xfs_db -r -c 'path /node' -c 'p u3.bmbt.ptrs[1]' $tmp/base.img > $tmp/ptr
ptr=$(sed -n 's/^u3.bmbt.ptrs\[1\] = //p' $tmp/ptr)
test -n "$ptr"
(cd $src && find node -type f) | sed 's|^|/|' > $tmp/nodefiles
hostile bmbt-loop 'bmap btree' /node $(cat $tmp/nodefiles) <<CMDS
path /node
addr u3.bmbt.ptrs[1]
write -d level 1
write -d numrecs 1
type bmapbtd
write -d ptrs[1] $ptr
CMDS
hostile inode-crc 'crc' <<CMDS
path /files/size-4096
write -c core.gen 77
CMDS
# The file whose inode has a bad CRC is still mapped, and right.
still inode-crc /files/size-4096
hostile dirloop '/short' /short/s0 <<CMDS
path /short
write -d u3.sfdir3.list[0].inumber.i4 128
CMDS

# A directory block of zeroes.
xfs_db -r -c 'path /block' -c bmap $tmp/base.img > $tmp/bmap
blk=$(sed -n 's/^data offset 0 startblock \([0-9]*\) .*/\1/p' $tmp/bmap)
test -n "$blk"
hostile dirblock 'block' $(cd $src && find block -type f | sed 's|^|/|') <<CMDS
fsblock $blk
type data
write -c fill 0
CMDS
for c in nextents bmbt-loop dirloop dirblock; do still $c /files/size-65537; done

# The refcount and reverse-map btrees of a filesystem that has them.
make_xfs $tmp/rmap.img 64M -m reflink=1,rmapbt=1
base=$tmp/rmap.img
hostile refcount-root 'refcount' <<CMDS
agf 0
write -d refcntroot 4000000000
CMDS
hostile rmap-crc 'crc' <<CMDS
agf 1
addr rmaproot
write -c lsn 5
CMDS
for c in refcount-root rmap-crc; do still $c /files/size-65537; done
base=

# A truncated image.
truncate -s 40M $tmp/base.img
hostile truncated '' < /dev/null
