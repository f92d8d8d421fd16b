#!/usr/bin/env bash
# Clients without TLS: refused under --tls=require with the protocol's
# NBD_REP_ERR_TLS_REQD (test-tls-plain, checked against nbdkit), served
# under --tls=on; garbage or a hang-up inside the TLS handshake or an
# established session costs one connection.  $uri says nbds:// when TLS is required.
source ./functions.sh
set -x
requires nbdkit --version
requires nbdinfo --version
requires nbdsh --version

tls_pki
img=$tmp/disk.img
truncate -s 4M $img

timeout 300 nbdkit -r --tls=require --tls-certificates=$pki/server \
    -U - file $img --run './test-tls-plain "$unixsocket"'
timeout 300 virt-bmap-nbd --tls=require --tls-certificates $pki/server \
    -U - $img --run './test-tls-plain "$unixsocket"'

# Garbage inside an established TLS session, a forged record, a
# hang-up inside a record: each costs its own connection only.
for s in "nbdkit -r --tls=require --tls-certificates=$pki/server -U - file" \
         "virt-bmap-nbd --tls=require --tls-certificates $pki/server -U -"; do
    timeout 300 $s $img --run '
        '$srcdir'/nbd-swarm tlsgarbage "unix:$unixsocket" '$pki/client' &&
        test "$(nbdinfo --size "$uri&tls-certificates='$pki/client'")" = 4194304'
done

# State negotiated in clear does not survive STARTTLS (CVE-2021-3716),
# and STARTTLS inside TLS is refused: as nbdkit does.
for s in "nbdkit -r --tls=on --tls-certificates=$pki/server -U - file" \
         "virt-bmap-nbd --tls=on --tls-certificates $pki/server -U -"; do
    timeout 300 $s $img --run \
        "$srcdir/nbd-swarm tlsreset \"unix:\$unixsocket\" $pki/client"
done

# -s: TLS over the pipe pair (libnbd's connect_command).
nbdsh -c '
h.set_tls(nbd.TLS_REQUIRE)
h.set_tls_certificates("'$pki/client'")
h.connect_command(["virt-bmap-nbd", "-s", "--tls=require",
                   "--tls-certificates", "'$pki/server'", "'$img'"])
assert h.get_tls_negotiated()
assert h.get_size() == 4194304
assert h.pread(4096, 0) == bytes(4096)
h.shutdown()'

# nbdinfo in clear: refused by both under require.
for s in "nbdkit -r --tls=require --tls-certificates=$pki/server -U - file" \
         "virt-bmap-nbd --tls=require --tls-certificates $pki/server -U -"; do
    expect_fail timeout 300 $s $img \
        --run 'nbdinfo --size "nbd+unix:///?socket=$unixsocket"'
done

# --tls=on: clear and TLS clients both served, by both.
for s in "nbdkit -r --tls=on --tls-certificates=$pki/server -U - file" \
         "virt-bmap-nbd --tls=on --tls-certificates $pki/server -U -"; do
    timeout 300 $s $img --run '
        test "$(nbdinfo --size "$uri")" = 4194304 &&
        test "$(nbdinfo --size "nbds+unix:///?socket=$unixsocket&tls-certificates='$pki/client'")" = 4194304'
done

# --tls=off (the default): STARTTLS is refused, so a TLS client fails.
expect_fail timeout 300 virt-bmap-nbd -U - $img \
    --run 'nbdinfo --size "nbds+unix:///?socket=$unixsocket&tls-certificates='$pki/client'"'

# $uri: nbds+unix:// and nbds:// under require, nbd:// otherwise.
timeout 300 virt-bmap-nbd --tls=require --tls-certificates $pki/server \
    -U - $img --run 'echo "$uri"' > $tmp/uri
grep '^nbds+unix:///?socket=' $tmp/uri
timeout 300 virt-bmap-nbd --tls=require --tls-certificates $pki/server \
    -p 0 $img --run 'echo "$uri"; nbdinfo --size "$uri?tls-certificates='$pki/client'"' > $tmp/uri
grep '^nbds://localhost:[0-9]*/$' $tmp/uri
grep '^4194304$' $tmp/uri
timeout 300 virt-bmap-nbd --tls=on --tls-certificates $pki/server \
    -U - $img --run 'echo "$uri"' > $tmp/uri
grep '^nbd+unix:///?socket=' $tmp/uri

# Options that would look like protection without being any.
expect_fail virt-bmap-nbd --tls-certificates $pki/server -U - $img --run true
expect_fail virt-bmap-nbd --tls=on -U - $img --run true
expect_fail virt-bmap-nbd --tls=yes --tls-certificates $pki/server -U - $img \
    --run true
expect_fail virt-bmap-nbd --tls=on --tls-psk $pki/keys.psk --tls-verify-peer \
    -U - $img --run true
