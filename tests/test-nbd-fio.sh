#!/usr/bin/env bash
# fio's libnbd engine: random writes with checksums on a --cow export,
# read back and verified, 16 requests in flight.
source ./functions.sh
set -x
requires fio --enghelp=nbd
export PATH="$top_builddir/nbdserver:$PATH"

img=$tmp/disk.img
truncate -s 64M $img
sum=$(md5sum < $img)

timeout 300 virt-bmap-nbd --cow -U - $img --run '
    fio --name=verify --ioengine=nbd --uri="$uri" --rw=randwrite --bs=4k \
        --iodepth=16 --size=16M --verify=crc32c --do_verify=1 \
        --verify_fatal=1 --verify_state_save=0 --output='$tmp/fio.out
cat $tmp/fio.out
grep 'err= 0' $tmp/fio.out
grep -E 'READ: bw=' $tmp/fio.out
test "$(md5sum < $img)" = "$sum"
