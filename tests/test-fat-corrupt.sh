#!/usr/bin/env bash
# Corrupt FAT volumes give warnings and a partial map, never a crash
# or a hang: a loop in a cluster chain, a chain running past the last
# cluster, a directory entry pointing past the end, a zeroed BPB (FAT32
# falls back to its backup boot sector, FAT16 has none) and zero
# sectors per cluster, a truncated image.  Where a filesystem is mapped, its extents still tile the
# volume.
source ./functions.sh
set -x
requires mkfs.vfat --help
requires mcopy --version
requires python3 --version
requires which mkfs.exfat
export MTOOLS_SKIP_CHECK=1

# poke IMG OFFSET HEX...: writes bytes into a test image.
poke ()
{
    python3 -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2], 0))
    f.write(bytes.fromhex("".join(sys.argv[3:])))' "$@"
}
# fat32_entry IMG CLUSTER HEX32LE: sets an entry in both FATs.
fat32_entry ()
{
    local res=$(python3 -c 'import sys; b=open(sys.argv[1],"rb").read(64); print(int.from_bytes(b[14:16],"little") * 512, int.from_bytes(b[36:40],"little") * 512)' $1)
    set -- "$@" $res
    poke $1 $(($4 + $2 * 4)) $3
    poke $1 $(($4 + $5 + $2 * 4)) $3
}

# map IMG NAME EXPECTED-WARNING: maps without crash or hang, with the
# warning.
map ()
{
    local r=0
    timeout 60 virt-bmap -o $tmp/$2.bmap $1 2> $tmp/$2.warn || r=$?
    cat $tmp/$2.warn
    test $r -eq 0 || fail "$2: virt-bmap exited with $r"
    grep -q "$3" $tmp/$2.warn || fail "$2: no warning '$3'"
    virt-bmap export $tmp/$2.bmap --format tsv > $tmp/$2.tsv
}

# A FAT32 volume, 512-byte clusters: the root is cluster 2, /a gets
# clusters 3-12, /b 13-22, /dir 23 and /dir/c 24-33.
make_fat32 ()
{
    rm -f $1
    truncate -s 40M $1
    mkfs.vfat -F 32 -s 1 $1 >/dev/null
    head -c 5120 /dev/urandom > $tmp/data
    mcopy -i $1 $tmp/data ::/a
    mcopy -i $1 $tmp/data ::/b
    mmd -i $1 ::/dir
    mcopy -i $1 $tmp/data ::/dir/c
}

# A loop: /a's 5th cluster points back to its first.
make_fat32 $tmp/loop.img
fat32_entry $tmp/loop.img 7 03000000
map $tmp/loop.img loop '/a: its cluster chain covers'
$srcdir/ext2-check-coverage $tmp/loop.tsv /dev/sda
grep -q $'\t/b\t' $tmp/loop.tsv

# A chain running past the last cluster.
make_fat32 $tmp/past.img
fat32_entry $tmp/past.img 15 f0fff00f
map $tmp/past.img past '/b: its cluster chain covers 3 of'
$srcdir/ext2-check-coverage $tmp/past.tsv /dev/sda
grep -q $'\t/dir/c\t' $tmp/past.tsv

# A directory entry whose first cluster is past the end (its cluster
# numbers are at bytes 20 and 26): libtsk drops the entry, and /a's
# clusters are in use for nobody.
make_fat32 $tmp/entry.img
python3 - $tmp/entry.img <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    boot = f.read(512)
    res, fatsz = int.from_bytes(boot[14:16], "little"), int.from_bytes(boot[36:40], "little")
    root = (res + 2 * fatsz) * 512
    f.seek(root)
    d = bytearray(f.read(512))
    for i in range(0, 512, 32):
        if d[i:i + 11] == b"A          ":
            d[i + 20:i + 22] = b"\xf0\x0f"
            d[i + 26:i + 28] = b"\x00\xff"
            break
    else:
        sys.exit("no entry for A")
    f.seek(root)
    f.write(d)
PY
map $tmp/entry.img entry '10 cluster(s) in use per the FAT belong to no live file'
$srcdir/ext2-check-coverage $tmp/entry.tsv /dev/sda

# A damaged BPB, in a partition (on a whole disk, sector 0 with a
# damaged BPB is no longer told from an MBR: the volume layer's call).
# in_partition IMG: IMG.disk, IMG in an MBR partition at 1 MiB.
in_partition ()
{
    local mib=$(( ($(stat -c %s $1) + 1048575) / 1048576 ))
    rm -f $1.disk
    truncate -s $((mib + 2))M $1.disk
    echo "start=2048, size=$((mib * 2048)), type=c" | sfdisk -q $1.disk
    dd if=$1 of=$1.disk bs=1M seek=1 conv=notrunc status=none
}
# A zeroed BPB: FAT32 uses its backup boot sector, and maps everything.
make_fat32 $tmp/bpb32.img
poke $tmp/bpb32.img 11 $(printf '00%.0s' $(seq 11 35))
in_partition $tmp/bpb32.img
map $tmp/bpb32.img.disk bpb32 'using the backup boot sector in sector 6'
$srcdir/ext2-check-coverage $tmp/bpb32.tsv /dev/sda1
grep -q $'\t/dir/c\t' $tmp/bpb32.tsv
# FAT16 has no backup: the boot sector alone is mapped.
rm -f $tmp/bpb16.img
truncate -s 16M $tmp/bpb16.img
mkfs.vfat -F 16 $tmp/bpb16.img >/dev/null
poke $tmp/bpb16.img 11 $(printf '00%.0s' $(seq 11 35))
in_partition $tmp/bpb16.img
map $tmp/bpb16.img.disk bpb16 'FAT boot sector unusable'
test "$(awk -F'\t' '$5 == "/dev/sda1" && $4 != "p"' $tmp/bpb16.tsv | cut -f2,3,6)" = "1048576	1049088	<boot sector>"
# Sectors per cluster zero, the rest intact.
rm -f $tmp/spc.img
truncate -s 16M $tmp/spc.img
mkfs.vfat -F 16 $tmp/spc.img >/dev/null
poke $tmp/spc.img 13 00
in_partition $tmp/spc.img
map $tmp/spc.img.disk spc 'sectors per cluster is not a power of 2'

# A truncated image: the volume says 40 MiB, the file holds 1 MiB.
make_fat32 $tmp/trunc.img
truncate -s 1M $tmp/trunc.img
map $tmp/trunc.img trunc 'truncated image'
$srcdir/ext2-check-coverage $tmp/trunc.tsv /dev/sda

# exFAT: a zeroed primary boot sector (the backup boot region at sector
# 12 is used), and a file's FAT chain looping back on itself.
rm -f $tmp/ex.img
truncate -s 16M $tmp/ex.img
mkfs.exfat -c 4096 $tmp/ex.img >/dev/null
head -c 20000 /dev/urandom > $tmp/data
head -c 30000 /dev/urandom > $tmp/data2
$srcdir/exfat-writer $tmp/ex.img put:/x:$tmp/data put:/y:$tmp/data rm:/x put:/z:$tmp/data2
cp $tmp/ex.img $tmp/exboot.img
poke $tmp/exboot.img 64 $(printf '00%.0s' $(seq 64 111))
in_partition $tmp/exboot.img
map $tmp/exboot.img.disk exboot 'using the backup boot sector in sector 12'
$srcdir/ext2-check-coverage $tmp/exboot.tsv /dev/sda1
grep -q $'\t/z\t' $tmp/exboot.tsv
# /z took /x's clusters and more after /y: a FAT chain; point its
# second cluster back at its first.
first=$(python3 -c '
import sys
b = open(sys.argv[1], "rb").read()
ss, cs = 1 << b[108], (1 << b[108]) << b[109]
heap, root = int.from_bytes(b[88:92], "little") * ss, int.from_bytes(b[96:100], "little")
d = b[heap + (root - 2) * cs:heap + (root - 1) * cs]
for i in range(0, cs, 32):
    if d[i] == 0x85 and d[i + 64 + 2:i + 64 + 4] == "z".encode("utf-16-le"):
        print(int.from_bytes(d[i + 52:i + 56], "little"), int.from_bytes(b[80:84], "little") * ss)
' $tmp/ex.img)
set -- $first
poke $tmp/ex.img $(($2 + ($1 + 1) * 4)) $(python3 -c "import sys; print(int(sys.argv[1]).to_bytes(4, 'little').hex())" $1)
map $tmp/ex.img exloop '/z: its cluster chain covers'
$srcdir/ext2-check-coverage $tmp/exloop.tsv /dev/sda
