#!/usr/bin/env bash
# Hostile btrfs on the kernel-made image (the single-device one of
# make-btrfs-kernel-image), edited by btrfs-edit, which sets each edited
# block's crc32c again so that the reader sees well-formed blocks saying
# wrong things, except where the checksum itself is the damage: a leaf
# failing its checksum at both DUP copies, a chunk whose stripe lies
# past the device, keys out of order, a node pointing at itself (a
# loop), the superblock's magic wiped at every copy, a checksum type the
# reader does not know.  Each image maps in bounded time without a
# crash, with warnings (except the wiped one, which is no btrfs), a map
# of what is sound (the partition; the files of @home when the damage
# is in @; for keys out of order, the files of @ in the later leaves),
# and the image unmodified.  (The reader's own test-btrfs-corrupt.sh
# does the like on mkfs.btrfs --rootdir images.)
source ./functions.sh
set -x -o pipefail
source "$srcdir/btrfs-functions.sh"
btrfs_kernel_disk
btrfs inspect-internal dump-tree -t 256 $tmp/p1.img > $tmp/d256
btrfs inspect-internal dump-tree -t chunk $tmp/p1.img > $tmp/dchunk

# le64 N: N as 8 little-endian bytes in hex.
le64 () { python3 -c "import sys; print(int(sys.argv[1]).to_bytes(8, 'little').hex())" $1; }

# hostile NAME [nowarn] [nohome]: maps $tmp/NAME.img (p1.img edited,
# put back in a copy of the disk): exit 0, no crash, bounded time,
# warnings (unless nowarn), @home's photo.bin mapped (unless nohome),
# the image unchanged.
hostile ()
{
    local name=$1 img=$tmp/$1-disk.img sum
    cp --sparse=always $tmp/disk.img $img
    dd if=$tmp/$name.img of=$img bs=512 seek=$start conv=notrunc,sparse status=none
    sum=$(sha256sum < $img)
    timeout 300 virt-bmap -o $tmp/$name.bmap $img 2> $tmp/$name.err ||
        { cat $tmp/$name.err; fail "$name: virt-bmap failed"; }
    cat $tmp/$name.err
    test "$(sha256sum < $img)" = "$sum" || fail "$name: the image changed"
    sqlite3 $tmp/$name.bmap "select count(*) from objects where kind = 'p'
        and device = '/dev/sda1'" > $tmp/n
    test "$(cat $tmp/n)" = 1
    case " $* " in
    *" nowarn "*) ;;
    *) grep_q 'warning:' $tmp/$name.err || fail "$name: no warning" ;;
    esac
    case " $* " in
    *" nohome "*) ;;
    *) sqlite3 $tmp/$name.bmap "select count(*) from objects where
           path = '/@home/user/photo.bin' and kind = 'f'" > $tmp/n
       test "$(cat $tmp/n)" = 1 || fail "$name: /@home/user/photo.bin not mapped" ;;
    esac
    rm -f $img
}

# A leaf of @ (the one naming /@/etc/hostname) failing its checksum.
leaf=$(awk '/^leaf/ { l = $2 } /name: hostname$/ { print l; exit }' $tmp/d256)
cp --sparse=always $tmp/p1.img $tmp/csum.img
"$srcdir/btrfs-edit" $tmp/csum.img $leaf 2000 deadbeef nocsum
hostile csum
grep_q -i 'checksum\|csum' $tmp/csum.err

# The data chunk's stripe 1 TiB into a device of 300 MiB.
read -r cleaf itemoff < <(awk '/^leaf/ { l = $2 }
    /CHUNK_ITEM/ { split($0, w, " "); for (i in w) if (w[i] == "itemoff") o = w[i + 1] }
    /type DATA\|/ { print l, o; exit }' $tmp/dchunk)
cp --sparse=always $tmp/p1.img $tmp/chunk.img
"$srcdir/btrfs-edit" $tmp/chunk.img $cleaf $((101 + itemoff + 48 + 8)) $(le64 $((1 << 40)))
hostile chunk nohome

# Keys out of order: the second item of that leaf of @ given the
# largest objectid.
cp --sparse=always $tmp/p1.img $tmp/order.img
"$srcdir/btrfs-edit" $tmp/order.img $leaf $((101 + 25)) ffffffffffffff7f
hostile order
# The damage stays in its leaf (as the kernel's tree checker refuses one
# leaf): a file whose items are in a later leaf of @, sound and in order
# under its parent's keys, is still mapped with its extents.
awk '/^leaf/ { l = $2 } /name: text$/ { print l }' $tmp/d256 | sort -u > $tmp/later
test -s $tmp/later && ! grep -qx "$leaf" $tmp/later
sqlite3 $tmp/order.bmap "select count(distinct o.path) from extents e join objects o
    on o.id = e.object where o.path in ('/@/zstd/text', '/@/lzo/text',
    '/@/zlib/text')" > $tmp/n
test "$(cat $tmp/n)" = 3 || fail "order: files of later leaves lost with the damaged one"

# A loop: the root node of @ (level 1) pointing at itself.
node=$(awk '/^node [0-9]+ level 1 / { print $2; exit }' $tmp/d256)
test -n "$node"
cp --sparse=always $tmp/p1.img $tmp/loop.img
"$srcdir/btrfs-edit" $tmp/loop.img $node $((101 + 17)) $(le64 $node)
hostile loop

# The superblock's magic wiped at both copies: no btrfs, no warning
# needed, the partition mapped all the same.
cp --sparse=always $tmp/p1.img $tmp/nomagic.img
for sb in 65536 $((64 << 20)); do
    printf '\0\0\0\0\0\0\0\0' |
        dd of=$tmp/nomagic.img bs=1 seek=$((sb + 64)) conv=notrunc status=none
done
hostile nomagic nowarn nohome

# A checksum type other than crc32c (xxhash64) in both superblocks.
cp --sparse=always $tmp/p1.img $tmp/xxhash.img
for sb in 65536 $((64 << 20)); do
    printf '\001\000' |
        dd of=$tmp/xxhash.img bs=1 seek=$((sb + 196)) conv=notrunc status=none
done
hostile xxhash nohome
