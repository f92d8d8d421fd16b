#!/usr/bin/env bash
# TLS with pre-shared keys (psktool): nbdinfo, nbdcopy and qemu-img
# with the right key; a wrong key and an unknown user are refused.
# Every case runs against nbdkit --tls-psk as the reference.
source ./functions.sh
set -x
requires nbdkit --version
requires nbdinfo --version
requires nbdcopy --version
requires qemu-img --version
requires psktool --version

tls_pki

img=$tmp/disk.img
truncate -s 32M $img
dd if=/dev/urandom of=$img bs=1M count=6 seek=3 conv=notrunc status=none

serve () {
    local server=$1; shift
    case $server in
    ours)   timeout 300 virt-bmap-nbd --tls=require --tls-psk $pki/keys.psk \
                -U - $img --run "$*" ;;
    nbdkit) timeout 300 nbdkit -r --tls=require --tls-psk=$pki/keys.psk \
                -U - file $img --run "$*" ;;
    esac
}

# libnbd takes the PSK user from the URI's user part.
as () { echo 'u=$(echo "$uri" | sed "s|^nbds+unix://|nbds+unix://'$1'@|")'; }

for s in nbdkit ours; do
    serve $s "$(as alice)"'; nbdinfo "$u&tls-psk-file='$pki/keys.psk'"' \
        > $tmp/info.$s
    grep 'protocol: newstyle-fixed with TLS, using structured packets' \
        $tmp/info.$s

    rm -f $tmp/out.img
    serve $s "$(as alice)"'; nbdcopy --connections=2 \
        "$u&tls-psk-file='$pki/keys.psk'" '$tmp/out.img
    cmp $img $tmp/out.img

    rm -f $tmp/out.img
    serve $s 'qemu-img convert -O raw \
        --object tls-creds-psk,id=tls0,endpoint=client,dir='$pki/qemu-psk',username=alice \
        --image-opts "driver=nbd,server.type=unix,server.path=$unixsocket,tls-creds=tls0" \
        '$tmp/out.img
    cmp $img $tmp/out.img

    # Refused: a wrong key, an unknown user.
    expect_fail serve $s "$(as alice)"'; nbdinfo --size "$u&tls-psk-file='$pki/wrong.psk'"'
    sed 's/^alice:/bob:/' $pki/keys.psk > $tmp/bob.psk
    expect_fail serve $s "$(as bob)"'; nbdinfo --size "$u&tls-psk-file='$tmp/bob.psk'"'
done

# A PSK file that cannot be read fails at startup.
expect_fail virt-bmap-nbd --tls=on --tls-psk $tmp/missing.psk -U - $img \
    --run true
