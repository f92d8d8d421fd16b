#!/usr/bin/env bash
# qcow2 through a private qemu-nbd, and NBD URIs through libnbd: the
# same bytes and the same map as the raw image.
source ./functions.sh
set -x
requires qemu-img --version
requires qemu-nbd --version
requires nbdkit --version
requires sfdisk --version

"$srcdir/make-sample-image" "$tmp/disk.img"
qemu-img convert -f raw -O qcow2 "$tmp/disk.img" "$tmp/disk.qcow2"

./test-source-read "$tmp/disk.qcow2" - "$tmp/disk.img" | grep 'format qcow2'

virt-bmap -q -o "$tmp/raw.bmap" "$tmp/disk.img"
virt-bmap export "$tmp/raw.bmap" --format tsv | grep -v '^#' > "$tmp/raw.tsv"
test "$(wc -l < "$tmp/raw.tsv")" -gt 10
for args in "$tmp/disk.qcow2" "--format=qcow2 $tmp/disk.qcow2"; do
    rm -f "$tmp/q.bmap"
    virt-bmap -q -o "$tmp/q.bmap" $args
    virt-bmap export "$tmp/q.bmap" --format tsv | grep -v '^#' |
        cmp - "$tmp/raw.tsv"
done

# An NBD URI served by nbdkit.
nbdkit -U - -r file "$tmp/disk.img" \
       --run "virt-bmap -q -o '$tmp/n.bmap' \"\$uri\"
              '$abs_builddir/test-source-read' \"\$uri\" nbd '$tmp/disk.img'"
virt-bmap export "$tmp/n.bmap" --format tsv | grep -v '^#' | cmp - "$tmp/raw.tsv"

# Errors: no qemu-nbd on $PATH, not qcow2, no server.
mkdir "$tmp/bin"
expect_fail env PATH="$tmp/bin" "$(command -v virt-bmap)" \
            -o "$tmp/x.bmap" "$tmp/disk.qcow2" 2> "$tmp/err"
grep 'qemu-nbd.*qemu-utils' "$tmp/err"
expect_fail virt-bmap -o "$tmp/x.bmap" --format qcow2 "$tmp/disk.img" 2> "$tmp/err"
grep 'qcow2' "$tmp/err"
expect_fail virt-bmap -o "$tmp/x.bmap" "nbd+unix:///?socket=$tmp/nosock" 2> "$tmp/err"
grep 'nosock' "$tmp/err"
