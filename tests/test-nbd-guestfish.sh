#!/usr/bin/env bash
# libguestfs reads a file from an ext4 image served read-only.  It
# goes through qemu, connects twice in a row, and wants the
# nbd://?socket= form of URI.  (Slow: the appliance boots under TCG.)
source ./functions.sh
set -x
requires guestfish --version
requires mkfs.ext4 -V
export PATH="$top_builddir/nbdserver:$PATH"

mkdir $tmp/root
echo "hello from virt-bmap-nbd" > $tmp/root/hello.txt
$MKFS_EXT4 -d $tmp/root $tmp/fs.img 16M
sum=$(md5sum < $tmp/fs.img)

timeout 600 virt-bmap-nbd -U - $tmp/fs.img --run '
    guestfish --ro --format=raw -a "nbd://?socket=$unixsocket" \
        run : mount /dev/sda / : cat /hello.txt' > $tmp/out
cat $tmp/out
grep 'hello from virt-bmap-nbd' $tmp/out
test "$(md5sum < $tmp/fs.img)" = "$sum"
