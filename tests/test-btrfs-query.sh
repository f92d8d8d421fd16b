#!/usr/bin/env bash
# virt-bmap query on a btrfs snapshot (make-btrfs-kernel-image): a byte
# of /@home-snap/user/photo.bin that the snapshot still shares with
# /@home/user/photo.bin belongs to both files, at the same offset,
# flagged shared; a byte of the range rewritten in the snapshot belongs
# to the snapshot's file alone.  Where the bytes are comes from
# dump-tree (the file's extent items) and btrfs-map-logical (their
# physical place), and the bytes there are the file's.
source ./functions.sh
set -x -o pipefail
source "$srcdir/btrfs-functions.sh"
btrfs_kernel_disk
btrfs_kernel_files ./@home-snap/user/photo.bin
map $img

# where FILEOFF: the disk offset of byte FILEOFF of the snapshot's
# photo.bin, per dump-tree of the snapshot's tree (258) and
# btrfs-map-logical.
btrfs inspect-internal dump-tree -t 258 $tmp/p1.img > $tmp/dump258
where ()
{
    local logical
    logical=$(python3 - $tmp/dump258 $1 <<'PY'
import re, sys
text = open(sys.argv[1], errors="surrogateescape").read()
want = int(sys.argv[2])
ino = re.search(r"key \((\d+) INODE_REF \d+\).*\n.*name: photo.bin\n", text).group(1)
for m in re.finditer(r"key \(" + ino + r" EXTENT_DATA (\d+)\).*\n.*type 1 \(regular\)\n"
                     r"\s+extent data disk byte (\d+) nr \d+\n"
                     r"\s+extent data offset (\d+) nr (\d+) ram \d+\n"
                     r"\s+extent compression 0", text):
    off, disk, eoff, nr = map(int, m.groups())
    if off <= want < off + nr:
        print(disk + eoff + want - off)
        break
else:
    sys.exit(f"no extent at {want}")
PY
)
    test -n "$logical" || return 1
    btrfs-map-logical -l $logical -b 4096 $tmp/p1.img > $tmp/ml || return 1
    test "$(grep -c '^mirror' $tmp/ml)" = 1 || return 1
    physical=$(sed -n 's/^mirror 1 logical [0-9]* physical \([0-9]*\) .*/\1/p' $tmp/ml)
    test -n "$physical" || return 1
    echo $(( start * 512 + physical ))
}

# A shared byte: both files, same offset, shared.
off=$(where 700000) || fail "no place for offset 700000"
cmp -n 4096 -i $off:700000 $img $tmp/src/@home-snap/user/photo.bin
virt-bmap query $tmp/map.bmap $off > $tmp/q
cat $tmp/q
awk -F'\t' '$3 == "f" { print $3, $4, $5, $7, $10 }' $tmp/q | sort > $tmp/got
sort > $tmp/want <<EOF2
f /dev/sda1 /@home-snap/user/photo.bin 700000 shared
f /dev/sda1 /@home/user/photo.bin 700000 shared
EOF2
diff -u $tmp/want $tmp/got
awk -F'\t' '$3 != "f" { print $3, $4 }' $tmp/q > $tmp/outer
diff -u - $tmp/outer <<EOF2
v /dev/sda
p /dev/sda1
EOF2

# A byte the snapshot rewrote: its file only, not shared.
off=$(where 530000) || fail "no place for offset 530000"
cmp -n 4096 -i $off:530000 $img $tmp/src/@home-snap/user/photo.bin
virt-bmap query $tmp/map.bmap $off > $tmp/q
cat $tmp/q
awk -F'\t' '$3 == "f" { print $3, $4, $5, $7, $10 }' $tmp/q > $tmp/got
echo "f /dev/sda1 /@home-snap/user/photo.bin 530000 -" | diff -u - $tmp/got

# By path: the snapshot's file, its extents the ones dump-tree gives.
virt-bmap query $tmp/map.bmap --path /dev/sda1:/@home-snap/user/photo.bin > $tmp/p
cat $tmp/p
grep_q -P "\t/@home-snap/user/photo.bin\t" $tmp/p
