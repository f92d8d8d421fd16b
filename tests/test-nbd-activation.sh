#!/usr/bin/env bash
# systemd socket activation (LISTEN_PID/LISTEN_FDS), from C.
source ./functions.sh
set -x
export PATH="$top_builddir/nbdserver:$PATH"

img=$tmp/disk.img
truncate -s 1M $img
printf 'socket activated' | dd of=$img conv=notrunc status=none

timeout 60 ./test-nbd-activation "$top_builddir/nbdserver/virt-bmap-nbd" \
    $img $tmp/sock 'socket activated'
