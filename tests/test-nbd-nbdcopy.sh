#!/usr/bin/env bash
# nbdcopy out of the server (one and several connections, many
# requests in flight) and into it (--rw); the copies must be equal.
source ./functions.sh
set -x
requires nbdcopy --version
export PATH="$top_builddir/nbdserver:$PATH"

img=$tmp/disk.img
truncate -s 48M $img
dd if=/dev/urandom of=$img bs=1M count=8 conv=notrunc status=none
dd if=/dev/urandom of=$img bs=1M count=5 seek=30 conv=notrunc status=none
printf 'tail' | dd of=$img bs=1 seek=$((48*1024*1024 - 4)) conv=notrunc status=none

timeout 120 virt-bmap-nbd -U - $img --run 'nbdcopy "$uri" '$tmp/out1.img
cmp $img $tmp/out1.img

timeout 120 virt-bmap-nbd -U - -t 4 $img \
    --run 'nbdcopy --connections=4 --requests=64 --request-size=65536 \
               "$uri" '$tmp/out2.img
cmp $img $tmp/out2.img

# Into a --rw export.
truncate -s 48M $tmp/dest.img
timeout 120 virt-bmap-nbd --rw -U - $tmp/dest.img \
    --run 'nbdcopy --flush '$img' "$uri"'
cmp $img $tmp/dest.img

# Into a --cow export and back out of it, on one server.
truncate -s 48M $tmp/empty.img
timeout 120 virt-bmap-nbd --cow -U - $tmp/empty.img \
    --run 'nbdcopy '$img' "$uri" && nbdcopy "$uri" '$tmp/out3.img
cmp $img $tmp/out3.img
cmp $tmp/empty.img <(head -c 48M /dev/zero)
