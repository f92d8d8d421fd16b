#!/usr/bin/env bash
# qemu's NBD client: qemu-img info/convert/compare, and qemu-io
# writes on a --cow export (verified by qemu-io's own patterns); the
# image is unchanged, and a read-only export refuses to be opened for
# writing.
source ./functions.sh
set -x
requires qemu-img --version
requires qemu-io --version
export PATH="$top_builddir/nbdserver:$PATH"

img=$tmp/disk.img
truncate -s 32M $img
dd if=/dev/urandom of=$img bs=1M count=3 conv=notrunc status=none
dd if=/dev/urandom of=$img bs=1M count=2 seek=20 conv=notrunc status=none
sum=$(md5sum < $img)

timeout 120 virt-bmap-nbd -U - $img \
    --run 'qemu-img info --output=json "$uri"' > $tmp/info
cat $tmp/info
grep '"virtual-size": 33554432' $tmp/info

timeout 120 virt-bmap-nbd -U - $img \
    --run 'qemu-img convert -f raw -O raw "$uri" '$tmp/out.img' &&
           qemu-img compare -f raw -F raw "$uri" '$img
cmp $img $tmp/out.img

# qemu-io prints "Pattern verification failed" but still exits 0.
timeout 120 virt-bmap-nbd --cow -U - $img --run 'qemu-io -f raw "$uri" \
    -c "write -P 0x5a 1M 64k" -c "read -P 0x5a 1M 64k" \
    -c "write -P 0x11 4095 3" -c "read -P 0x11 4095 3" \
    -c "write -z 2M 128k" -c "read -P 0 2M 128k" \
    -c "aio_write -P 0x33 3M 4k" -c "aio_flush" -c "read -P 0x33 3M 4k" \
    -c "discard 8M 1M" -c "flush"' > $tmp/io 2>&1
cat $tmp/io
if grep -i -E 'fail|error' $tmp/io; then fail "qemu-io reported an error"; fi
test "$(grep -c '^read' $tmp/io)" -eq 4
test "$(md5sum < $img)" = "$sum"

expect_fail timeout 60 virt-bmap-nbd -U - $img \
    --run 'qemu-io -f raw "$uri" -c "write 0 512"'
test "$(md5sum < $img)" = "$sum"
