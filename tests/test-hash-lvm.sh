#!/usr/bin/env bash
# virt-bmap --hash over LVM2: the files of the ext4 LVs of the test
# LVM image (linear, three segments over two PVs, three stripes over
# three PVs, a thin LV, and vg2's root), hashed from extents spread over
# the PVs: against the SHA-256 the appliance that wrote them computed
# (lvm-oracle.txt, vg2/root) and against the files lvm-files makes
# again (the same content in every LV).
source ./functions.sh
set -x
set -o pipefail
requires xz --version

img=$tmp/lvm.img
xz -dc "$srcdir/lvm-image.xz" > $img
virt-bmap -v --hash sha256,md5 -o $tmp/map.bmap $img 2> $tmp/log
cat $tmp/log
grep 'hashed .* files in file order afterwards' $tmp/log
"$srcdir/lvm-files" $tmp/files

sha_of () # DEVICE PATH
{
    virt-bmap query $tmp/map.bmap --path "$1:$2" > $tmp/q
    awk '$1 == "#" && $2 == "sha256" { print $3 }' $tmp/q
}
n=0
for f in numbers small middle; do
    want=$(awk -v p="/$f" '$1 == "file" && $2 == "vg2/root" && $3 == p { print $4 }' \
           "$srcdir/lvm-oracle.txt")
    test -n "$want"
    test "$(sha_of /dev/vg2/root /$f)" = "$want"
    for dev in /dev/vg1/lin /dev/vg1/frag /dev/vg1/str /dev/vg1/thin; do
        test "$(sha_of $dev /$f)" = "$(sha256sum < $tmp/files/$f | cut -d' ' -f1)"
        n=$((n + 1))
    done
done
test $n -eq 12
# Nothing in the image is left unhashed.
test "$(sqlite3 $tmp/map.bmap "SELECT count(*) FROM hashes WHERE not_hashed IS NOT NULL")" -eq 0
