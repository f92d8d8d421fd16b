#!/usr/bin/env bash
# Listening: a Unix socket at a given path, TCP on 127.0.0.1, and
# vsock where the kernel can loop it back (checked with nbdkit first).
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

port=$(( 20000 + $$ % 20000 ))
if timeout 30 nbdkit --vsock -p $port null 1M \
       --run "nbdinfo --size nbd+vsock://1:$port" >/dev/null 2>&1; then
    timeout 60 virt-bmap-nbd --vsock -p $port $img \
        --run "nbdinfo --size nbd+vsock://1:$port" > $tmp/out
    grep '^3145728$' $tmp/out
else
    echo "$0: no vsock loopback here, vsock not tested"
fi
