#!/usr/bin/env bash
# -s: one client on stdin/stdout, as a socket (libnbd's [ CMD ] form
# uses a socketpair) and as a pair of pipes.
source ./functions.sh
set -x
requires nbdinfo --version
requires nbdcopy --version
export PATH="$top_builddir/nbdserver:$PATH"

img=$tmp/disk.img
truncate -s 8M $img
dd if=/dev/urandom of=$img bs=1M count=2 seek=3 conv=notrunc status=none

test "$(timeout 60 nbdinfo --size [ virt-bmap-nbd -s $img ])" = 8388608
timeout 60 nbdcopy [ virt-bmap-nbd -s $img ] $tmp/out.img
cmp $img $tmp/out.img

# Pipes: flags (fixed newstyle, no zeroes), NBD_OPT_LIST, NBD_OPT_ABORT.
opt () { printf 'IHAVEOPT\0\0\0\\x%02x\0\0\0\0' $1; }
{ printf '\0\0\0\3'; opt 3; opt 2; } |
    timeout 60 virt-bmap-nbd -s -e pipe-export $img > $tmp/reply
od -c $tmp/reply | head -20
head -c 8 $tmp/reply | grep -q NBDMAGIC
grep -q pipe-export $tmp/reply
