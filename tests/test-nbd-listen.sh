#!/usr/bin/env bash
# Listening: a Unix socket at a given path and TCP on 127.0.0.1 (vsock:
# test-nbd-vsock.sh).
source ./functions.sh
set -x
requires nbdinfo --version
requires nbdkit --version
export PATH="$top_builddir/nbdserver:$PATH"

img=$tmp/disk.img
truncate -s 3M $img

timeout 60 virt-bmap-nbd -U $tmp/sock $img \
    --run 'test "$unixsocket" = '$tmp/sock' && nbdinfo --size "$uri"' > $tmp/out
grep '^3145728$' $tmp/out
test ! -e $tmp/sock
# An existing socket file is not ours to take over.
touch $tmp/sock
expect_fail virt-bmap-nbd -f -U $tmp/sock $img

timeout 60 virt-bmap-nbd -i 127.0.0.1 -p 0 $img \
    --run 'echo "$uri"; nbdinfo --size "$uri"' > $tmp/out
grep '^nbd://127.0.0.1:[0-9]*/$' $tmp/out
grep '^3145728$' $tmp/out
