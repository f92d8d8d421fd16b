#!/usr/bin/env bash
# A bounded swarm of careless clients on loopback TCP (100 idle ones
# and 100 sending a byte every 20 s) does not stop a good client:
# nbdcopy, in clear and over TLS, completes while the whole swarm is
# still connected (nbd-swarm checks that none was closed meanwhile).
# The copy times with and without the swarm are printed, not judged.
source ./functions.sh
set -x
requires nbdcopy --version
requires python3 --version

tls_pki
img=$tmp/disk.img
truncate -s 256M $img
dd if=/dev/urandom of=$img bs=1M count=64 conv=notrunc status=none
dd if=/dev/urandom of=$img bs=1M count=16 seek=200 conv=notrunc status=none

swarm="$srcdir/nbd-swarm hold tcp:localhost:\$port 100 100 --"
for tls in "" "--tls=require --tls-certificates $pki/server"; do
    q=; [ -n "$tls" ] && q="?tls-certificates=$pki/client"
    # The swarm must outlive the copy: a long handshake timeout.
    flags="-p 0 --handshake-timeout 600 --max-connections 250 $tls"

    rm -f $tmp/out.img
    start=$(date +%s%N)
    timeout 600 virt-bmap-nbd $flags $img \
        --run 'nbdcopy "$uri'$q'" '$tmp/out.img
    alone=$(( ($(date +%s%N) - start) / 1000000 ))
    cmp $img $tmp/out.img

    rm -f $tmp/out.img
    start=$(date +%s%N)
    timeout 600 virt-bmap-nbd $flags $img \
        --run "$swarm"' nbdcopy "$uri'$q'" '$tmp/out.img
    held=$(( ($(date +%s%N) - start) / 1000000 ))
    cmp $img $tmp/out.img
    echo "server run with nbdcopy ${tls:+(TLS) }alone: $alone ms; with the swarm (opening 200 clients included): $held ms"
done
