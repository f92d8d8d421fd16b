#!/usr/bin/env bash
# A VG over two disks mapped together (make-lvm-multidisk-host): each
# disk a whole-disk PV, an LV striped over both and a linear LV with a
# segment on each.  lvm-check against lvm's oracle (the LVs' contents
# rebuilt from extents on both disks), then every file of the two
# ext4 filesystems rebuilt from its extents on both disks.
source ./functions.sh
set -x -o pipefail
requires xz --version

xz -dc "$srcdir/lvm-multidisk-a.xz" > $tmp/a.img
xz -dc "$srcdir/lvm-multidisk-b.xz" > $tmp/b.img
virt-bmap -o $tmp/map.bmap $tmp/a.img $tmp/b.img 2> $tmp/stderr
cat $tmp/stderr
grep -q warning $tmp/stderr && fail "warnings: $(cat $tmp/stderr)"
virt-bmap export $tmp/map.bmap --format tsv -o $tmp/map.tsv
size=$(stat -c %s $tmp/a.img)
printf '/dev/sda 0 %s 0\n/dev/sdb 0 %s 1\n' $size $size > $tmp/parts
"$srcdir/lvm-check" $tmp/a.img,$tmp/b.img $tmp/map.bmap $tmp/map.tsv \
    "$srcdir/lvm-multidisk-oracle.txt" $tmp/parts

# Both LVs have extents on both disks.
for lv in sp span; do
    test "$(awk -F'\t' -v d=/dev/vg3/$lv '$4 == "l" && $5 == d { print $1 }' \
            $tmp/map.tsv | sort -u | tr '\n' ' ')" = "0 1 "
done

"$srcdir/lvm-files" $tmp/files
python3 - $tmp/a.img,$tmp/b.img $tmp/map.tsv $tmp/files <<'PY'
import os, sys
images = [open(p, "rb") for p in sys.argv[1].split(",")]
files = {}
for line in open(sys.argv[2]):
    c = line.rstrip("\n").split("\t")
    if line.startswith("#") or c[3] != "f" or c[7] == "-":
        continue
    files.setdefault((c[4], c[5]), [int(c[9])]).append(
        (int(c[0]), int(c[1]), int(c[2]), int(c[7])))
checked = 0
for (dev, path), (size, *ext) in sorted(files.items()):
    buf = bytearray(size)
    for d, s, e, off in ext:
        images[d].seek(s)
        data = images[d].read(e - s)[:max(0, size - off)]
        buf[off:off + len(data)] = data
    local = os.path.join(sys.argv[3], path.lstrip("/"))
    want = (os.readlink(local).encode() if os.path.islink(local)
            else open(local, "rb").read())
    assert bytes(buf) == want, f"{dev}:{path} differs"
    checked += 1
print(f"{checked} files rebuilt from both disks")
assert checked == 8
PY
