#!/usr/bin/env bash
# A file too big for one MFT record, written through libntfs-3g
# (ntfs-helper): 3000 data pieces with holes between them (6000 runs,
# $DATA split over many extension records), 40 more hard links and a
# named stream, so its $ATTRIBUTE_LIST is non-resident.  Checked by
# ntfs-check-map (coverage, fls, every run against ntfsinfo, the base
# and extension MFT records against the records ntfsinfo dumps, content
# with ntfscat, the attribute list's included); the attribute list is
# a stream "::$ATTRIBUTE_LIST" of its own, at its offset per ntfsinfo.
# Then the attribute list corrupted on disk: entries pointing to the
# base record itself, to another file's record, to records past $MFT,
# a zero entry length: warnings, a map that still tiles the disk, no
# hang.
source ./functions.sh
set -x
requires_ntfs

img=$tmp/ntfs.img
make_ntfs $img 64M
head -c $((3000 * 4096 - 1234)) /dev/urandom > $tmp/data
./ntfs-helper stripes $img /big $tmp/data 4096
./ntfs-helper links $img /big 40
echo a named stream > $tmp/s
./ntfs-helper cp $img $tmp/s /big:ads
./ntfs-helper cp $img $tmp/s /other
ntfsinfo -f -v -F /big $img > $tmp/info
# The attribute list is non-resident, the data in several records.
sed -n '/^Dumping attribute $ATTRIBUTE_LIST/,/^Dumping/p' $tmp/info | grep_q 'Resident:.*No'
test "$(grep -c '^Dumping attribute $DATA' $tmp/info)" -gt 10

virt-bmap -o $tmp/ntfs.bmap $img 2> $tmp/warnings
cat $tmp/warnings
test ! -s $tmp/warnings
$srcdir/ntfs-check-map $img $tmp/ntfs.bmap /dev/sda
virt-bmap export $tmp/ntfs.bmap --format tsv > $tmp/map.tsv

# The attribute list: its first byte where ntfsinfo's runlist puts it.
ino=$(ifind -n /big $img)
lcn=$(($(sed -n '/^Dumping attribute $ATTRIBUTE_LIST/,/^Dumping/p' $tmp/info |
         awk '/Runlist:/ && !seen { getline; print $2; seen = 1 }')))
awk -F'\t' -v s=$((lcn * 4096)) -v i=$ino '$2 == s && $7 == i && $6 ~ /::\$ATTRIBUTE_LIST$/ &&
    $4 == "f" && $8 == 0 { ok = 1 } END { exit !ok }' $tmp/map.tsv
virt-bmap query $tmp/ntfs.bmap $((lcn * 4096 + 100)) | awk -F'\t' '$3 == "f" { print $7 }' > $tmp/hit
test "$(cat $tmp/hit)" -eq 100
# Every MFT record of the file (more than 20) is attributed to it.
test "$(grep -o 'from mft record [0-9]*' $tmp/info | sort -u | wc -l)" -gt 20

# Corrupt attribute lists (not protected by fixups: plain bytes).
python3 - $img $((lcn * 4096)) $(ifind -n /other $img) $tmp <<'PY'
import struct, sys
img, at, other, tmp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with open(img, "rb") as f:
    f.seek(at)
    al = f.read(4096)
# The entries: type (4 bytes), length (2), ..., lowest VCN at 8, MFT
# reference at 16.
ents, pos = [], 0
while struct.unpack_from("<H", al, pos + 4)[0]:
    ents.append(pos)
    pos += struct.unpack_from("<H", al, pos + 4)[0]
data = [p for p in ents if al[p] == 0x80 and al[p + 6] == 0]
base = struct.unpack_from("<Q", al, 16)[0]
ext = struct.unpack_from("<Q", al, data[1] + 16)[0]

def variant(name, entries, offset, fmt, value):
    bad = bytearray(al)
    for p in entries:
        struct.pack_into(fmt, bad, p + offset, value)
    with open(f"{tmp}/{name}.al", "wb") as f:
        f.write(bad)

# Every entry in the base record: a cycle back to the record itself.
variant("self", ents, 16, "<Q", base)
# Entries in another file's base record.
variant("other", ents, 16, "<Q", other | 1 << 48)
# Entries in records far past the end of $MFT.
variant("past", ents, 16, "<Q", 1 << 40)
# An entry of length 0.
variant("zerolen", ents[1:2], 4, "<H", 0)
# Every $DATA entry in the same extension record.
variant("same", data, 16, "<Q", ext)
# Every $DATA extent said to start at VCN 0.
variant("vcn0", data, 8, "<Q", 0)
PY
for v in self other past zerolen same vcn0; do
    cp --sparse=always $img $tmp/$v.img
    dd if=$tmp/$v.al of=$tmp/$v.img bs=4096 seek=$lcn conv=notrunc
    timeout 60 virt-bmap -o $tmp/$v.bmap $tmp/$v.img 2> $tmp/warnings
    cat $tmp/warnings
    grep -q "/big.*attribute" $tmp/warnings
    virt-bmap export $tmp/$v.bmap --format tsv > $tmp/$v.tsv
    python3 $srcdir/ext2-check-coverage $tmp/$v.tsv /dev/sda
    # The other files are still mapped.
    awk -F'\t' '$6 == "/other" { ok = 1 } END { exit !ok }' $tmp/$v.tsv
    rm $tmp/$v.img
done
