#!/usr/bin/env bash
# Damaged and hostile btrfs images (made by mkfs.btrfs --rootdir, then
# edited here, checksums recomputed where the damage must get past
# them): a tree block with a bad checksum (DUP: the second copy is
# used; SINGLE: skipped), a child pointer back to its node (a loop), keys
# out of order, the extent tree lost (free space from the free space
# tree), a system chunk whose stripe lies past the device, an
# absurd stripe count, a truncated image, garbage over the metadata.
# Each gives warnings and a partial map: never a crash or a hang.
source ./functions.sh
set -x -o pipefail
source "$srcdir/btrfs-functions.sh"
requires_mkfs_btrfs

src=$tmp/src
mkdir -p $src/d
for i in $(seq 1 400); do echo "file $i" > $src/d/file-with-a-long-name-$i; done
head -c 300000 /dev/urandom > $src/big

img=$tmp/img
make_img ()
{
    rm -f $img
    truncate -s 200m $img
    mkfs.btrfs -q -f --rootdir $src "$@" $img
}

# poke IMAGE PHYSICAL NODESIZE OP [ARGS]: edits the tree block at
# PHYSICAL (or the superblock, NODESIZE 4096 at 65536) and recomputes
# its crc32c: OP is csum (break the checksum only), ptr N (child
# pointer 0 := N), swap (swap the keys of items 0 and 1), stripe OFF
# (the first system chunk's first stripe offset := OFF), nstripes N.
poke ()
{
    python3 - "$@" <<'PY'
import struct, sys
img, phys, ns, op = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
arg = int(sys.argv[5]) if len(sys.argv) > 5 else 0
T = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    T.append(c)
def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c = T[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF
with open(img, "r+b") as f:
    f.seek(phys)
    b = bytearray(f.read(ns))
    if op == "ptr":
        b[101 + 17:101 + 25] = struct.pack("<Q", arg)
    elif op == "swap":
        k0, k1 = b[101:118], b[126:143]
        b[101:118], b[126:143] = k1, k0
    elif op == "stripe":
        b[811 + 17 + 48 + 8:811 + 17 + 48 + 16] = struct.pack("<Q", arg)
    elif op == "nstripes":
        b[811 + 17 + 44:811 + 17 + 46] = struct.pack("<H", arg)
    if op != "csum":
        b[0:4] = struct.pack("<I", crc32c(bytes(b[32:])))
    else:
        b[40] ^= 0xFF       # in the fsid: the block is no longer ours
        b[0] ^= 0xFF
    f.seek(phys)
    f.write(b)
PY
}

# phys IMAGE LOGICAL [MIRROR]: where a logical address is.
phys ()
{
    btrfs-map-logical -l $2 -b 4096 $1 > $tmp/ml
    awk -v m="${3:-1}" '$1 == "mirror" && $2 == m { print $6; exit }' $tmp/ml
}

# block OWNER: the logical address of the first leaf of OWNER's tree.
block ()
{
    btrfs inspect-internal dump-tree $img > $tmp/dump
    awk -v o="$1" '$1 == "leaf" && $NF == o { print $2; exit }' $tmp/dump
}

# expect WARNING: maps $img within a minute, exit 0, with WARNING.
expect ()
{
    local r=0
    timeout 120 virt-bmap -o $tmp/map.bmap $img 2> $tmp/stderr || r=$?
    cat $tmp/stderr
    test $r -eq 0 || fail "virt-bmap exited with $r"
    grep_q -- "$1" $tmp/stderr || fail "no warning '$1'"
    virt-bmap export $tmp/map.bmap --format tsv > $tmp/map.tsv
}

# 1. DUP metadata: a bad first copy of the fs tree's leaf, the second used.
make_img
leaf=$(block FS_TREE)
poke $img $(phys $img $leaf 1) 16384 csum
expect "copy 1 unusable (another filesystem's fsid), copy 2 used"
grep_q $'\t/big\t' $tmp/map.tsv

# 2. SINGLE metadata: the leaf is lost, the rest mapped.
make_img -m single
leaf=$(block FS_TREE)
poke $img $(phys $img $leaf) 16384 csum
expect "btrfs tree block $leaf: another filesystem's fsid: skipped"
grep_q '<superblock>' $tmp/map.tsv

# 3. 4 KiB nodes, many leaves: a node pointing to itself, then keys out
# of order in a leaf.
make_img -m single -n 4096
btrfs inspect-internal dump-tree $img > $tmp/dump
node=$(awk '$1 == "node" && $NF == "FS_TREE" { print $2; exit }' $tmp/dump)
test -n "$node"
poke $img $(phys $img $node) 4096 ptr $node
expect "btrfs tree block $node: wrong level: skipped"
make_img -m single -n 4096
leaf=$(block FS_TREE)
poke $img $(phys $img $leaf) 4096 swap
expect "key out of order: skipped"

# 3b. The extent tree lost: free space from the free space tree, the
# same as the sound filesystem's (its leaf aside, now <unaccounted>).
make_img -m single
virt-bmap -o $tmp/sound.bmap $img
virt-bmap export $tmp/sound.bmap --format tsv |
    awk -F'\t' '$6 == "<free space>" { print $2, $3 }' > $tmp/free.sound
test -s $tmp/free.sound
leaf=$(block EXTENT_TREE)
poke $img $(phys $img $leaf) 16384 csum
expect "free space inside chunks from the free space tree"
awk -F'\t' '$6 == "<free space>" { print $2, $3 }' $tmp/map.tsv > $tmp/free.damaged
diff $tmp/free.sound $tmp/free.damaged

# 4. The system chunk: a stripe past the device, then 65535 stripes.
make_img -m single
poke $img 65536 4096 stripe $((1 << 50))
expect "past"
make_img -m single
poke $img 65536 4096 nstripes 65535
expect "btrfs system chunk"

# 5. A truncated image, garbage over the metadata.
make_img
truncate -s 40m $img
expect "truncated image"
make_img -m single
leaf=$(block ROOT_TREE)
dd if=/dev/urandom of=$img bs=4096 seek=$(( $(phys $img $leaf) / 4096 - 64 )) \
    count=512 conv=notrunc
expect "btrfs tree block"
