#!/usr/bin/env bash
# LVM layouts as the kernel writes them.  One launch of the libguestfs
# appliance makes a VG over five GPT partitions of one sparse disk and
# in it raid0 (with and without metadata images), raid1, raid4, raid5
# (left- and right-symmetric and -asymmetric, parity-last, and one
# extended so that its images have two segments), raid6 (zero-restart,
# n-restart, n-continue, n_6, ls_6), raid10,
# raid1 with three legs, legacy mirrors (core and disk log), striped
# LVs (one extended to two segments), a thin LV in a thin pool and its
# thin snapshot (the origin changed after it: copy on write), and a
# linear LV of two segments; ext4 in each, the same files copied into
# each.  The kernel's md, dm-mirror, dm-stripe and dm-thin place every
# byte; the appliance reports what lvm says (lvs -a --segments, pvs),
# the SHA-256 of every active LV and sub-LV as device-mapper reads it,
# and of every file as the mounted ext4 reads it.  On the host the image is mapped and:
#  - lvm-check: every LV (hidden sub-LVs too) rebuilt from the image at
#    its mapped extents has the kernel's SHA-256 (mirror and raid1/10
#    copies all land on one buffer: they must agree), PV ranges of
#    leaf LVs are covered, free extents match pvs;
#  - every copy of a mirrored LV alone rebuilds the LV;
#  - every file of every LV rebuilt from its mapped disk ranges equals
#    the file the appliance read (its SHA-256, and the bytes copied
#    in); in mirrored LVs each of the two copies of every byte.
source ./functions.sh
set -x -o pipefail
requires guestfish --version
requires sfdisk --version
requires jq --version
requires python3 --version
export LIBGUESTFS_BACKEND=direct
source "$srcdir/part-functions.sh"

img=$tmp/disk.img
truncate -s 576M $img
sfdisk -q --no-reread $img <<EOF
label: gpt
1 : size=112M
2 : size=112M
3 : size=112M
4 : size=112M
5 : size=112M
EOF

# The files: random contents (a new set each run), sizes from one byte
# to several RAID stripes, one in a subdirectory.
mkdir -p $tmp/files/sub
head -c 1 /dev/urandom > $tmp/files/one
head -c 5000 /dev/urandom > $tmp/files/small
head -c 300000 /dev/urandom > $tmp/files/middle
head -c 2500000 /dev/urandom > $tmp/files/big
head -c 70000 /dev/urandom > $tmp/files/sub/inner
tar -C $tmp/files -cf $tmp/files.tar .
# What the thin LV holds after its snapshot is taken: middle removed,
# a new file, big rewritten with a changed block.
cp -a $tmp/files $tmp/files2
rm $tmp/files2/middle
head -c 200000 /dev/urandom > $tmp/files2/later
printf changed | dd of=$tmp/files2/big bs=1 seek=100000 conv=notrunc
tar -C $tmp/files2 -cf $tmp/files2.tar .

# RAID and mirrors (they sync), the others.
synced="r1 r1c3 r4 r5 r5ra r5la r5rs r5n r5x r6 r6nr r6nc r6n6 r6ls6 r10 mir mirl"
lvs="$synced r0 r0m str strx lin thin"
cat > $tmp/make.sh <<EOF
#!/bin/sh
set -e
exec 2>&1
lvs="$lvs"
synced="$synced"
EOF
cat >> $tmp/make.sh <<'EOF'
# The appliance may lack thin_check; the pool is new and empty.
cfg='global{thin_check_executable=""}'
l () { lvm "$@" --config "$cfg"; }
# The partitions' nodes may still be on their way from udev.
udevadm settle || :
n=0
while [ ! -b ${disk}5 ]; do
    n=$((n + 1))
    # A generous bound: udev in the appliance is slow on a loaded host.
    if [ $n -gt 1200 ]; then echo "no ${disk}5"; exit 1; fi
    sleep 0.1
done
for i in 1 2 3 4 5; do l pvcreate -q -y ${disk}$i; done
l vgcreate -q -s 1m vg1 ${disk}1 ${disk}2 ${disk}3 ${disk}4 ${disk}5
l lvcreate -q -y -n lin -L 4m vg1 ${disk}1
l lvcreate -q -y -n spacer -L 1m vg1 ${disk}1
l lvextend -q -L +4m vg1/lin ${disk}2
l lvcreate -q -y -n r1 --type raid1 -m 1 -L 8m vg1
l lvcreate -q -y -n r1c3 --type raid1 -m 2 -L 6m vg1
l lvcreate -q -y -n r5 --type raid5 -i 2 -I 64k -L 12m vg1
l lvcreate -q -y -n r6 --type raid6 -i 3 -L 12m vg1
l lvcreate -q -y -n r10 --type raid10 -i 2 -m 1 -L 8m vg1
l lvcreate -q -y -n mir --type mirror -m 1 --mirrorlog core -L 8m vg1
l lvcreate -q -y -n mirl --type mirror -m 1 --mirrorlog disk -L 6m vg1
l lvcreate -q -y -n str -i 2 -I 64k -L 8m vg1
l lvcreate -q -y -n r4 --type raid4 -i 2 -I 32k -L 8m vg1
l lvcreate -q -y -n r5ra --type raid5_ra -i 3 -I 16k -L 6m vg1
l lvcreate -q -y -n r6nr --type raid6_nr -i 3 -I 128k -L 6m vg1
for t in r5la:raid5_la r5rs:raid5_rs r5n:raid5_n; do
    l lvcreate -q -y -n ${t%:*} --type ${t#*:} -i 2 -I 32k -L 6m vg1
done
for t in r6nc:raid6_nc r6n6:raid6_n_6 r6ls6:raid6_ls_6; do
    l lvcreate -q -y -n ${t%:*} --type ${t#*:} -i 3 -I 32k -L 6m vg1
done
l lvcreate -q -y -n r0 --type raid0 -i 3 -I 32k -L 6m vg1
l lvcreate -q -y -n r0m --type raid0_meta -i 2 -L 6m vg1
# A RAID5 and a striped LV extended past another LV: images of two
# segments, and a second striped segment.
l lvcreate -q -y -n r5x --type raid5 -i 2 -L 4m vg1 ${disk}3 ${disk}4 ${disk}5
l lvcreate -q -y -n strx -i 2 -I 8k -L 4m vg1 ${disk}3 ${disk}4
l lvcreate -q -y -n spacer2 -L 1m vg1 ${disk}3
l lvcreate -q -y -n spacer3 -L 1m vg1 ${disk}4
l lvcreate -q -y -n spacer4 -L 1m vg1 ${disk}5
l lvextend -q -L +4m vg1/r5x ${disk}3 ${disk}4 ${disk}5
l lvextend -q -i 2 -I 8k -L +4m vg1/strx ${disk}3 ${disk}4
l lvcreate -q -y -n pool --type thin-pool -L 16m vg1
l lvcreate -q -y -n thin -V 32m --thinpool vg1/pool

# Until the kernel says every RAID and mirror is in sync (resync of a
# few MiB: seconds even under TCG).
wait_sync () {
    n=0
    while :; do
        pc=$(l lvs --noheadings -o sync_percent \
                 $(for v in $synced; do echo vg1/$v; done) |
             tr -d ' ' | sort -u)
        [ "$pc" = "100.00" ] && break
        n=$((n + 1))
        if [ $n -gt 600 ]; then echo "not in sync: $pc"; exit 1; fi
        sleep 1
    done
}
wait_sync

mkdir -p /tmp/files /tmp/files2 /tmp/mnt
tar -C /tmp/files -xf /tmp/files.tar
tar -C /tmp/files2 -xf /tmp/files2.tar
for lv in $lvs; do
    mkfs.ext4 -q -F /dev/vg1/$lv
    mount /dev/vg1/$lv /tmp/mnt
    cp -a /tmp/files/. /tmp/mnt/
    umount /tmp/mnt
done
# A thin snapshot keeps the files; the origin changes after it
# (copy-on-write of shared pool blocks).
l lvcreate -q -y -s -n snap vg1/thin
l lvchange -q -ay -K vg1/snap
mount /dev/vg1/thin /tmp/mnt
rm /tmp/mnt/middle
cp /tmp/files2/later /tmp/mnt/later
cp /tmp/files2/big /tmp/mnt/big
umount /tmp/mnt
sync
wait_sync

# The files as the kernel reads them back, from a fresh mount.
echo 3 > /proc/sys/vm/drop_caches
for lv in $lvs snap; do
    mount -o ro /dev/vg1/$lv /tmp/mnt
    (cd /tmp/mnt && find . -type f ! -path './lost+found/*' | sort |
        while read -r f; do
            set -- $(sha256sum "$f")
            echo "FILE $lv ${f#.} $1"
        done)
    umount /tmp/mnt
done

echo "== lvs"
l lvs -a --segments --units b --nosuffix --noheadings --separator '|' \
    -o vg_name,lv_name,segtype,seg_start_pe,seg_size_pe,seg_pe_ranges,stripes,stripe_size,seg_le_ranges vg1 2>/dev/null
echo "== pvs"
l pvs --units b --nosuffix --noheadings --separator '|' \
    -o pv_name,vg_name,pe_start,pv_size,pv_pe_count,vg_extent_size 2>/dev/null
# Every active device of the VG as device-mapper reads it, past any
# cached page.  Not the RAID metadata images nor the pool's metadata:
# md and dm-thin write them again when the VG is deactivated.
echo "== sha256"
sync
echo 3 > /proc/sys/vm/drop_caches
for d in /dev/mapper/vg1-*; do
    n=${d#/dev/mapper/}
    case $n in *_rmeta_*|*_tmeta|*_mlog|*-tpool) continue ;; esac
    blockdev --flushbufs $d
    set -- $(dd if=$d bs=1M iflag=direct 2>/dev/null | sha256sum)
    echo "$1 $n"
done
l vgchange -q -an vg1 > /dev/null
echo "== end"
EOF
# Our disk by its name in the appliance (appliance-disk.sh says why).
sed -i "/^exec 2>&1\$/r $srcdir/appliance-disk.sh" $tmp/make.sh

# One launch: the disk is written by the kernel, the oracle is what
# the appliance prints.
guestfish --format=raw -a $img > $tmp/out <<EOF
run
debug-upload $tmp/files.tar /tmp/files.tar 0644
debug-upload $tmp/files2.tar /tmp/files2.tar 0644
debug-upload $tmp/make.sh /tmp/make.sh 0755
debug sh "/tmp/make.sh"
EOF
cat $tmp/out
grep -qx '== end' $tmp/out
sed -n '/^== lvs$/,/^== end$/p' $tmp/out | grep -v '^== end$' |
    sed 's/^ *//' > $tmp/oracle
grep '^FILE ' $tmp/out > $tmp/filesums

# Every LV type was made (the oracle has each segment type).
for t in raid0 raid0_meta raid1 raid4 raid5 raid5_ra raid5_la raid5_rs \
         raid5_n raid6 raid6_nr raid6_nc raid6_n_6 raid6_ls_6 raid10 mirror \
         striped thin-pool thin linear; do
    grep -q "^vg1|[^|]*|$t|" $tmp/oracle
done
# lin has two segments.
test "$(grep -c '^vg1|lin|' $tmp/oracle)" = 2
# strx has two striped segments; the images of r5x two segments each.
test "$(grep -c '^vg1|strx|striped|' $tmp/oracle)" = 2
for i in 0 1 2; do
    test "$(grep -c "^vg1|\[r5x_rimage_$i\]|" $tmp/oracle)" = 2
done

map $img
test ! -s $tmp/warnings
oracle_parts $img > $tmp/parts
"$srcdir/lvm-check" $img $tmp/map.bmap $tmp/map.tsv $tmp/oracle $tmp/parts

# Each copy of a mirrored LV alone: the pieces of the LV at the same
# offset are its copies; the k-th piece found at each offset, in disk
# order, rebuilds the LV and has the kernel's SHA-256.
python3 - $img $tmp/map.tsv $tmp/oracle <<'PY'
import collections, hashlib, sys
img, tsv, oracle = sys.argv[1:]
want = {}
sec = None
for line in open(oracle):
    line = line.strip()
    if line.startswith("== "):
        sec = line[3:]
    elif sec == "sha256":
        h, n = line.split()
        want["/dev/" + n.replace("-", "/", 1)] = h
pieces = collections.defaultdict(list)
size = {}
for line in open(tsv):
    if line.startswith("#") or not line.strip():
        continue
    c = line.rstrip("\n").split("\t")
    if c[3] == "l" and c[7] != "-":
        pieces[c[4]].append((int(c[7]), int(c[1]), int(c[2])))
        size[c[4]] = int(c[9])
errors = 0
f = open(img, "rb")
for dev, copies in (("/dev/vg1/r1", 2), ("/dev/vg1/r1c3", 3), ("/dev/vg1/r10", 2),
                    ("/dev/vg1/mir", 2), ("/dev/vg1/mirl", 2)):
    byoff = collections.defaultdict(list)
    for off, s, e in sorted(pieces[dev], key=lambda p: p[1]):
        byoff[off].append((s, e))
    # Pieces of equal offsets must have equal lengths to be copies.
    for k in range(copies):
        buf = bytearray(size[dev])
        have = 0
        for off, lst in byoff.items():
            if len(lst) != copies:
                print(f"{dev}: {len(lst)} copies at offset {off}")
                errors += 1
                continue
            s, e = lst[k]
            f.seek(s)
            buf[off:off + e - s] = f.read(e - s)
            have += e - s
        if have != size[dev]:
            print(f"{dev}: copy {k} covers {have} of {size[dev]} bytes")
            errors += 1
        elif hashlib.sha256(buf).hexdigest() != want[dev]:
            print(f"{dev}: copy {k} differs from the kernel's")
            errors += 1
        else:
            print(f"{dev}: copy {k} matches")
sys.exit(1 if errors else 0)
PY

# Every file of every LV: the appliance read what was copied in, and
# the map rebuilds it.
# The thin origin holds files2 since the snapshot, which holds files.
for lv in $lvs snap; do
    dir=$tmp/files
    test $lv = thin && dir=$tmp/files2
    (cd $dir && find . -type f | sort | while read -r f; do
         set -- $(sha256sum "$f"); echo "${f#.} $1"; done) > $tmp/want
    awk -v lv=$lv '$2 == lv { print $3, $4 }' $tmp/filesums > $tmp/have
    diff -u $tmp/want $tmp/have
    test "$(grep -c "	f	/dev/vg1/$lv	/sub/inner	" $tmp/map.tsv)" -ge 1
    case $lv in
    r1|r10|mir|mirl)
        "$srcdir/lvm-check-copies" $img $tmp/map.tsv /dev/vg1/$lv $dir 2 ;;
    r1c3)
        "$srcdir/lvm-check-copies" $img $tmp/map.tsv /dev/vg1/$lv $dir 3 ;;
    *)
        python3 "$srcdir/ext2-check-content" $img $tmp/map.tsv \
            /dev/vg1/$lv $dir ;;
    esac
done
