#!/usr/bin/env bash
# systemd socket activation (LISTEN_PID/LISTEN_FDS), from C, then from
# libnbd, whose [ CMD ] form starts servers that way.
source ./functions.sh
set -x
requires nbdinfo --version
requires nbdcopy --version
export PATH="$top_builddir/nbdserver:$PATH"

img=$tmp/disk.img
truncate -s 1M $img
printf 'socket activated' | dd of=$img conv=notrunc status=none

timeout 60 ./test-nbd-activation "$top_builddir/nbdserver/virt-bmap-nbd" \
    $img $tmp/sock 'socket activated'

test "$(timeout 60 nbdinfo --size -- [ virt-bmap-nbd $img ])" = 1048576
timeout 60 nbdcopy -- [ virt-bmap-nbd $img ] $tmp/copy.img
cmp $img $tmp/copy.img
