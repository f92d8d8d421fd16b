#!/usr/bin/env bash
# TLS with X.509 certificates made here (certtool): real clients
# (nbdinfo, nbdcopy, qemu-img, qemu-io) through virt-bmap-nbd
# --tls=require, and every case run against nbdkit --tls=require too,
# the reference for what must succeed and what must fail.
source ./functions.sh
set -x
requires nbdkit --version
requires nbdinfo --version
requires nbdcopy --version
requires qemu-img --version

tls_pki

img=$tmp/disk.img
truncate -s 48M $img
dd if=/dev/urandom of=$img bs=1M count=8 conv=notrunc status=none
dd if=/dev/urandom of=$img bs=1M count=3 seek=30 conv=notrunc status=none

# serve SERVER CERTDIR [FLAGS...] -- CMD: CMD with $uri (nbds+unix://).
serve () {
    local server=$1 dir=$2; shift 2
    local flags=()
    while [ "$1" != -- ]; do flags+=("$1"); shift; done
    shift
    case $server in
    ours)   timeout 300 virt-bmap-nbd --tls=require --tls-certificates $dir \
                "${flags[@]}" -U - $img --run "$*" ;;
    nbdkit) timeout 300 nbdkit -r --tls=require --tls-certificates=$dir \
                "${flags[@]}" -U - file $img --run "$*" ;;
    esac
}

# A free TCP port for nbdkit (1.32 cannot choose one itself).
free_port () {
    python3 -c 'import socket; s = socket.socket(); s.bind(("localhost", 0)); print(s.getsockname()[1])'
}

# result SERVER CERTDIR [FLAGS...] -- CLIENTDIR: ok or refused.  Over
# loopback TCP: libnbd 1.14 does not check the server's certificate
# on a Unix socket (no host name to check it against).
result () {
    local server=$1 dir=$2 flags=() port
    shift 2
    while [ "$1" != -- ]; do flags+=("$1"); shift; done
    local client='nbdinfo --size "nbds://localhost:$port/?tls-certificates='$2'"'
    local r=0
    case $server in
    ours)   timeout 300 virt-bmap-nbd --tls=require --tls-certificates $dir \
                "${flags[@]}" -p 0 $img --run "$client" \
                > $tmp/size 2>$tmp/err || r=$? ;;
    nbdkit) port=$(free_port)
            timeout 300 nbdkit -r --tls=require --tls-certificates=$dir \
                "${flags[@]}" -i localhost -p $port file $img --run "$client" \
                > $tmp/size 2>$tmp/err || r=$? ;;
    esac
    cat $tmp/err >&2
    if [ $r -eq 0 ] && [ "$(cat $tmp/size)" = 50331648 ]; then
        echo ok
    else
        echo refused
    fi
}

# check EXPECTED SERVERDIR [FLAGS...] -- CLIENTDIR: nbdkit and we agree.
check () {
    local want=$1; shift
    local ref ours
    ref=$(result nbdkit "$@")
    ours=$(result ours "$@")
    test "$ref" = "$want" || fail "nbdkit: $*: $ref, expected $want"
    test "$ours" = "$ref" || fail "virt-bmap-nbd: $*: $ours, nbdkit $ref"
}

for s in nbdkit ours; do
    # nbdinfo: the connection really is TLS, structured replies and
    # base:allocation survive the upgrade.
    serve $s $pki/server -- 'nbdinfo "$uri&tls-certificates='$pki/client'"' \
        > $tmp/info.$s
    cat $tmp/info.$s
    grep 'protocol: newstyle-fixed with TLS, using structured packets' \
        $tmp/info.$s
    grep 'base:allocation' $tmp/info.$s

    # nbdcopy: 4 connections, 64 requests in flight each.
    rm -f $tmp/out.img
    serve $s $pki/server -- 'nbdcopy --connections=4 --requests=64 \
        "$uri&tls-certificates='$pki/client'" '$tmp/out.img
    cmp $img $tmp/out.img

    # qemu: tls-creds-x509 (Unix sockets need tls-hostname).
    rm -f $tmp/out.img
    obj="tls-creds-x509,id=tls0,endpoint=client,dir=$pki/client"
    serve $s $pki/server -- '
        opts="driver=nbd,server.type=unix,server.path=$unixsocket"
        opts="$opts,tls-creds=tls0,tls-hostname=localhost"
        qemu-img convert -O raw --object '$obj' --image-opts "$opts" '$tmp/out.img' &&
        qemu-io -r --object '$obj' --image-opts "$opts" \
            -c "read -P 0 20M 1M" -c "read -P 0 47M 1M"'
    cmp $img $tmp/out.img
done

# Block status through TLS equals block status in clear (--tls=on
# serves both), on our server.
timeout 300 virt-bmap-nbd --tls=on --tls-certificates $pki/server -U - $img \
    --run 'nbdinfo --map "$uri" > '$tmp/map.plain' &&
           nbdinfo --map "nbds+unix:///?socket=$unixsocket&tls-certificates='$pki/client'" > '$tmp/map.tls
cat $tmp/map.tls
cmp $tmp/map.plain $tmp/map.tls
test -s $tmp/map.tls

# What must work, and what must be refused, as nbdkit says.
check ok      $pki/server -- $pki/client
check ok      $pki/server -- $pki/client-nocert
check refused $pki/server -- $pki/client-wrongca
check refused $pki/server-expired -- $pki/client
check ok      $pki/server --tls-verify-peer -- $pki/client
check refused $pki/server --tls-verify-peer -- $pki/client-nocert
check refused $pki/server --tls-verify-peer -- $pki/client-othercert
check refused $pki/server --tls-verify-peer -- $pki/client-expired
check refused $pki/server-revoked --tls-verify-peer -- $pki/client

# A server key that is not the certificate's: both refuse to serve.
check refused $pki/server-badkey -- $pki/client
expect_fail virt-bmap-nbd --tls=require --tls-certificates $pki/server-badkey \
    -U - $img --run true 2> $tmp/err
grep 'do not match' $tmp/err
# A directory without the files fails at startup, not at the first client.
mkdir $tmp/empty
expect_fail virt-bmap-nbd --tls=on --tls-certificates $tmp/empty -U - $img \
    --run true
