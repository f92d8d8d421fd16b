#!/usr/bin/env bash
# virt-bmap-nbd --vsock: served over AF_VSOCK to this machine (CID 1,
# VMADDR_CID_LOCAL), read back with nbdinfo and nbdcopy.  That needs
# the kernel's vsock loopback transport (vsock_loopback, a module in
# Debian's kernel, loaded by ./setup); without it the test skips,
# saying why, checked first with nbdkit, an independent server.
source ./functions.sh
set -x
requires nbdinfo --version
requires nbdcopy --version
requires nbdkit --version
export PATH="$top_builddir/nbdserver:$PATH"

port=$(( 20000 + $$ % 20000 ))
if ! timeout 30 nbdkit --vsock -p $port null 1M \
       --run "nbdinfo --size nbd+vsock://1:$port" > $tmp/nbdkit 2>&1; then
    cat $tmp/nbdkit
    echo "$0: test skipped: no vsock loopback in this kernel" \
         "(CONFIG_VSOCKETS_LOOPBACK; 'modprobe vsock_loopback' failed?)"
    exit 77
fi

img=$tmp/disk.img
head -c 3M /dev/urandom > $img
timeout 60 virt-bmap-nbd --vsock -p $port $img \
    --run "nbdinfo --size nbd+vsock://1:$port &&
           nbdcopy nbd+vsock://1:$port $tmp/copy" > $tmp/out
grep '^3145728$' $tmp/out
cmp $img $tmp/copy
