#!/usr/bin/env bash
# -s: one client on stdin/stdout, as a socket (libnbd's
# connect_command uses a socketpair) and as a pair of pipes.
source ./functions.sh
set -x
export PATH="$top_builddir/nbdserver:/usr/bin:$PATH"
requires nbdsh --version

img=$tmp/disk.img
truncate -s 8M $img
dd if=/dev/urandom of=$img bs=1M count=2 seek=3 conv=notrunc status=none
export img

timeout 60 nbdsh -c '
import os
h.connect_command(["virt-bmap-nbd", "-s", os.environ["img"]])
assert h.get_size() == 8 * 1024 * 1024
with open(os.environ["img"], "rb") as f:
    f.seek(3 * 1024 * 1024)
    assert h.pread(65536, 3 * 1024 * 1024) == f.read(65536)
print("ok")' > $tmp/out
grep '^ok$' $tmp/out

# Pipes: flags (fixed newstyle, no zeroes), NBD_OPT_LIST, NBD_OPT_ABORT.
opt () { printf "IHAVEOPT\\0\\0\\0\\00$1\\0\\0\\0\\0"; }
{ printf '\0\0\0\3'; opt 3; opt 2; } |
    timeout 60 virt-bmap-nbd -s -e pipe-export $img > $tmp/reply
od -c $tmp/reply | sed -n 1,20p
head -c 8 $tmp/reply | grep_q NBDMAGIC
grep -q pipe-export $tmp/reply
