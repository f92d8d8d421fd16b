#!/usr/bin/env bash
# The error table and hostile input, from a raw-socket client.  The
# same checks run first against nbdkit (the reference), then against
# virt-bmap-nbd read-only, --cow and --rw.
source ./functions.sh
set -x
requires nbdkit --version
export PATH="$top_builddir/nbdserver:$PATH"

img=$tmp/pattern.img
./test-nbd-hostile make-image $img
sum=$(md5sum < $img)

# nbdkit's file plugin accepts any export name: make it strict like us.
strict="--filter=exportname exportname-strict=true exportname="

timeout 300 nbdkit -r -U - file $img $strict \
    --run './test-nbd-hostile ro "$unixsocket"'
timeout 300 virt-bmap-nbd -U - $img \
    --run './test-nbd-hostile ro "$unixsocket"'

cp $img $tmp/copy.img
timeout 300 nbdkit -U - file $tmp/copy.img $strict \
    --run './test-nbd-hostile rw "$unixsocket"'
timeout 300 virt-bmap-nbd --cow -U - $img \
    --run './test-nbd-hostile rw "$unixsocket"'
cp $img $tmp/copy.img
timeout 300 virt-bmap-nbd --rw -U - $tmp/copy.img \
    --run './test-nbd-hostile rw "$unixsocket"'

# --cow and read-only never touched the image.
test "$(md5sum < $img)" = "$sum"
