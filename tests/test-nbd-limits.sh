#!/usr/bin/env bash
# --max-connections: clients beyond the cap are closed at once, and
# served again when a slot frees.  --handshake-timeout: idle clients,
# clients sending a byte a second (a deadline per read would never
# fire) and clients stalled inside the TLS handshake are all closed,
# and a good client is served afterwards.  Bounds are generous: the
# server must act within 60 s of a 3 s timeout.
source ./functions.sh
set -x
requires nbdinfo --version
requires nbdsh --version
requires python3 --version

tls_pki
img=$tmp/disk.img
truncate -s 4M $img
addr='tcp:localhost:$port'

timeout 300 virt-bmap-nbd -p 0 --max-connections 4 $img \
    --run "$srcdir/nbd-swarm cap $addr 4"
timeout 300 virt-bmap-nbd -p 0 --max-connections 4 \
    --tls=require --tls-certificates $pki/server $img \
    --run "$srcdir/nbd-swarm cap $addr 4"

timeout 300 virt-bmap-nbd -p 0 --handshake-timeout 3 \
    --tls=on --tls-certificates $pki/server $img \
    --run "$srcdir/nbd-swarm timeout $addr 20 20 10 60 &&
           nbdinfo --size \"\$uri\" && nbdinfo --size \"nbds://localhost:\$port/?tls-certificates=$pki/client\"" \
    > $tmp/out 2> $tmp/err
cat $tmp/out $tmp/err
grep 'closed by the server' $tmp/out
test "$(grep -c '^4194304$' $tmp/out)" = 2
grep -q 'handshake not finished after 3 seconds' $tmp/err

# A client that finished its handshake is not cut by the timeout.
timeout 300 virt-bmap-nbd -p 0 --handshake-timeout 1 $img \
    --run 'nbdsh -u "$uri" -c "import time; time.sleep(4); assert h.pread(512, 0) == bytes(512)"'
