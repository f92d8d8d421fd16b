#!/usr/bin/env bash
# The TLS options in the other servers: bmaplog traces reads that came
# through TLS (oracle: debugfs says where the file is), inspect-nbd
# serves --run over TLS, and refuses --tls without --run.
source ./functions.sh
set -x
requires nbdsh --version
requires nbdinfo --version
requires jq --version

tls_pki
"$srcdir/make-sample-image" "$tmp/disk.img"
virt-bmap -q -o "$tmp/disk.bmap" "$tmp/disk.img"
part=$((2048 * 512))
bs=$(dumpe2fs -h "$tmp/disk.img?offset=$part" 2>/dev/null | awk '/^Block size:/ { print $3 }')
blk=$(debugfs -R "bmap /usr/share/doc/numbers.txt 0" "$tmp/disk.img?offset=$part" 2>/dev/null)
off=$((part + blk * bs))

# One block read at the file's start, over TLS.
bmaplog -m "$tmp/disk.bmap" "$tmp/disk.img" -U - --no-log \
    --tls=require --tls-certificates $pki/server --tls-verify-peer \
    --trace "$tmp/trace.jsonl" --run "
      case \"\$uri\" in nbds+unix://*) ;; *) exit 9 ;; esac
      nbdsh -c 'h.set_tls_certificates(\"$pki/client\")' \
            -u \"\$uri\" -c 'h.pread($bs, $off)'"
jq -c 'select(.op == "read")' "$tmp/trace.jsonl" > "$tmp/reads"
cat "$tmp/reads"
jq -e -s --argjson off $off --argjson bs $bs '
  map(select(.path == "/usr/share/doc/numbers.txt")) |
  .[0].offset == $off and .[0].object_offset == 0 and .[0].length == $bs
' "$tmp/reads"

# A plain client gets nothing from bmaplog under require.
expect_fail bmaplog -m "$tmp/disk.bmap" "$tmp/disk.img" -U - --no-log \
    --tls=require --tls-certificates $pki/server \
    --run 'nbdinfo --size "nbd+unix:///?socket=$unixsocket"'

# inspect-nbd: --run over TLS, with a PSK; no --tls without --run.
size=$(stat -c %s "$tmp/disk.img")
inspect-nbd --tls=require --tls-psk $pki/keys.psk "$tmp/disk.img" \
    --run 'nbdinfo --size "$(echo "$uri" | sed "s|^nbds+unix://|nbds+unix://alice@|")&tls-psk-file='$pki/keys.psk'"' \
    > $tmp/size
test "$(cat $tmp/size)" = "$size"
expect_fail inspect-nbd --tls=require --tls-psk $pki/keys.psk "$tmp/disk.img" \
    2> $tmp/err
grep -- '--tls needs --run' $tmp/err
