#!/usr/bin/env bash
# virt-bmap-nbd --vsock: served over AF_VSOCK to the same machine (CID
# 1, VMADDR_CID_LOCAL) and read back with nbdinfo and nbdcopy, real
# clients.  That needs the kernel's vsock loopback transport
# (CONFIG_VSOCKETS_LOOPBACK), which the kernel running the tests may
# lack: then server and clients run in the libguestfs appliance, whose
# kernel is Debian's and has it as a module.  nbdcopy writes what it
# reads to a disk of the appliance, compared with the image here.
source ./functions.sh
set -x
requires nbdinfo --version
requires nbdcopy --version
requires nbdkit --version
export PATH="$top_builddir/nbdserver:$PATH"

port=$(( 20000 + $$ % 20000 ))
img=$tmp/disk.img
head -c 3M /dev/urandom > $img

# Here, if this kernel has vsock loopback (nbdkit, an independent
# server, tells) and VBM_VSOCK_GUEST does not ask for the appliance.
if [ -z "${VBM_VSOCK_GUEST:-}" ] &&
   timeout 30 nbdkit --vsock -p $port null 1M \
       --run "nbdinfo --size nbd+vsock://1:$port" > $tmp/nbdkit 2>&1; then
    timeout 60 virt-bmap-nbd --vsock -p $port $img \
        --run "nbdinfo --size nbd+vsock://1:$port &&
               nbdcopy nbd+vsock://1:$port $tmp/copy" > $tmp/out
    grep '^3145728$' $tmp/out
    cmp $img $tmp/copy
    exit 0
fi
cat $tmp/nbdkit

requires guestfish --version
requires ldd --version
export LIBGUESTFS_BACKEND=direct

# The server (not libtool's wrapper script) and the clients, with the
# shared libraries they load but glibc's, which the appliance has: it
# is built from this machine's packages.
mkdir -p $tmp/g/bin $tmp/g/lib
cp "$top_builddir/nbdserver/.libs/virt-bmap-nbd" "$(command -v nbdinfo)" \
   "$(command -v nbdcopy)" $tmp/g/bin/
LD_LIBRARY_PATH="$top_builddir/lib/.libs" ldd $tmp/g/bin/* > $tmp/ldd
if grep 'not found' $tmp/ldd; then fail "missing libraries"; fi
awk '$2 == "=>" && $3 ~ /^\// { print $3 }' $tmp/ldd | sort -u |
    grep -Ev '/(libc|libm|libpthread|libdl|librt|libresolv)\.so' > $tmp/libs
grep_q libvirtbmap.so $tmp/libs
cp -L $(cat $tmp/libs) $tmp/g/lib/
tar -C $tmp/g -cf $tmp/g.tar bin lib

cat > $tmp/run.sh <<EOF
#!/bin/sh
set -e
exec 2>&1
port=$port
EOF
# Our disk by its name in the appliance (appliance-disk.sh says why).
cat "$srcdir/appliance-disk.sh" >> $tmp/run.sh
cat >> $tmp/run.sh <<'EOF'
modprobe vsock_loopback
mkdir /tmp/g
tar -C /tmp/g -xf /tmp/g.tar
export PATH=/tmp/g/bin:$PATH LD_LIBRARY_PATH=/tmp/g/lib
timeout 600 virt-bmap-nbd --vsock -p $port /tmp/disk.img \
    --run "nbdinfo --size nbd+vsock://1:$port &&
           nbdcopy nbd+vsock://1:$port $disk"
sync
echo "== end"
EOF

# The copy lands on a disk of the image's size, read here afterwards.
truncate -s 3M $tmp/copy
guestfish --format=raw -a $tmp/copy > $tmp/out <<EOF
run
debug-upload $tmp/g.tar /tmp/g.tar 0644
debug-upload $img /tmp/disk.img 0644
debug-upload $tmp/run.sh /tmp/run.sh 0755
debug sh "/tmp/run.sh"
EOF
cat $tmp/out
grep -x '== end' $tmp/out
grep '^3145728$' $tmp/out
cmp $img $tmp/copy
