#!/usr/bin/env bash
# Corrupt NTFS volumes: warnings and a partial map, never a crash or a
# hang.
#  - primary boot sector wiped, backup intact: mapped from the backup,
#    checked by ntfs-check-map against the intact image's oracles;
#  - truncated image: mapped up to the end, still tiling the disk;
#  - a directory hard-linked inside itself (a cycle): the walk ends;
#  - the MFT record of a directory overwritten with garbage (bad
#    fixups): what is below it is mapped as unreachable records;
#  - $AttrDef's size corrupt (libntfs-3g cannot mount, and leaks): not
#    mapped, with a warning, no sanitizer report;
#  - both boot sectors garbage: not mapped, with a warning.
source ./functions.sh
set -x
requires_ntfs

img=$tmp/ntfs.img
make_ntfs $img 16M
./ntfs-helper mkdir $img /d
./ntfs-helper mkdir $img /d/sub
repeat abc 30000 > $tmp/data
./ntfs-helper cp $img $tmp/data /d/sub/file
./ntfs-helper cp $img $tmp/data /top
./ntfs-helper link $img /d /d/sub/loop
fls -r $img | grep_q "\b$(ifind -n /d $img)-144-.*loop"

# The cycle: /d is listed once, the map is complete.
virt-bmap -o $tmp/good.bmap $img
$srcdir/ntfs-check-map $img $tmp/good.bmap /dev/sda

# Primary boot sector wiped: the backup is used.
cp $img $tmp/noboot.img
dd if=/dev/zero of=$tmp/noboot.img bs=512 count=1 conv=notrunc
virt-bmap -o $tmp/noboot.bmap $tmp/noboot.img 2> $tmp/warnings
cat $tmp/warnings
grep -q 'backup boot sector' $tmp/warnings
# The ntfs-3g tools need the boot sector: the oracles read the intact
# image (the files' bytes are the same in both).
$srcdir/ntfs-check-map $img $tmp/noboot.bmap /dev/sda

# Truncated: 10 of 16 MiB.
cp $img $tmp/trunc.img
truncate -s 10M $tmp/trunc.img
virt-bmap -o $tmp/trunc.bmap $tmp/trunc.img 2> $tmp/warnings
cat $tmp/warnings
grep -q 'truncated' $tmp/warnings
virt-bmap export $tmp/trunc.bmap --format tsv > $tmp/trunc.tsv
python3 $srcdir/ext2-check-coverage $tmp/trunc.tsv /dev/sda

# Garbage over the MFT record of /d (ifind's inode number, $MFT's
# first cluster per ntfsinfo -m): /d/sub/file is unreachable.
cp $img $tmp/mft.img
mftlcn=$(ntfsinfo -m $img | awk '/LCN of Data Attribute for FILE_MFT:/ { print $NF }')
head -c 1024 /dev/urandom |
    dd of=$tmp/mft.img bs=1024 seek=$((mftlcn * 4 + $(ifind -n /d $img))) conv=notrunc
virt-bmap -o $tmp/mft.bmap $tmp/mft.img 2> $tmp/warnings
cat $tmp/warnings
grep -q 'reached by no name' $tmp/warnings
virt-bmap export $tmp/mft.bmap --format tsv > $tmp/mft.tsv
python3 $srcdir/ext2-check-coverage $tmp/mft.tsv /dev/sda
ino=$(ifind -n /d/sub/file $img)
awk -F'\t' -v i=$ino '$7 == i && $4 == "f" && $11 == "unreachable" && $8 == 0 { ok = 1 }
    END { exit !ok }' $tmp/mft.tsv
grep -q '<unreachable record' $tmp/mft.tsv

# $AttrDef's $DATA claims 0x7fffffff bytes (the low 4 bytes of its
# data size, in MFT record 4): libntfs-3g refuses to mount, and leaks
# (tests/lsan.supp says why): a warning, the disk left unmapped, no
# sanitizer report.
cp $img $tmp/attrdef.img
python3 - $tmp/attrdef.img $((mftlcn * 4096 + 4 * 1024)) <<'PY'
import struct, sys
img, off = sys.argv[1], int(sys.argv[2])
with open(img, "r+b") as f:
    f.seek(off)
    rec = f.read(1024)
    assert rec[:4] == b"FILE"
    a = struct.unpack_from("<H", rec, 0x14)[0]
    while struct.unpack_from("<I", rec, a)[0] != 0x80:
        assert struct.unpack_from("<I", rec, a)[0] != 0xffffffff
        a += struct.unpack_from("<I", rec, a + 4)[0]
    assert rec[a + 8] == 1                  # non-resident
    # Not on an update sequence position (the last 2 bytes of a sector).
    assert (a + 0x30) % 512 < 508
    f.seek(off + a + 0x30)                  # data size, low 4 bytes
    f.write(struct.pack("<I", 0x7fffffff))
PY
ntfsinfo -m $tmp/attrdef.img > $tmp/ntfsinfo 2>&1 &&
    fail "ntfsinfo mounts the volume with a corrupt \$AttrDef"
cat $tmp/ntfsinfo
grep -q 'Attribute definition table is too big' $tmp/ntfsinfo
virt-bmap -o $tmp/attrdef.bmap $tmp/attrdef.img 2> $tmp/warnings
cat $tmp/warnings
grep -q 'NTFS volume not mapped' $tmp/warnings
virt-bmap export $tmp/attrdef.bmap --format tsv > $tmp/attrdef.tsv
[ "$(grep -vc '^#' $tmp/attrdef.tsv)" -eq 1 ]

# Both boot sectors garbage: a warning, the disk left unmapped.
cp $img $tmp/bad.img
for s in 0 $((16 * 2048 - 1)); do
    printf 'garbage!' | dd of=$tmp/bad.img bs=1 seek=$((s * 512 + 11)) conv=notrunc
done
virt-bmap -o $tmp/bad.bmap $tmp/bad.img 2> $tmp/warnings
cat $tmp/warnings
grep -q 'not mapped' $tmp/warnings
