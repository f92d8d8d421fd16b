#!/usr/bin/env bash
# The libnbd sources open several connections when the server allows
# it (multi-conn), and one only when it does not: an nbd+unix:// remote
# (nbdkit file, then the same behind nbdkit's multi-conn filter turned
# off) counted in nbdkit's log, and our qcow2 source's private
# qemu-nbd counted in ss(8).  Whatever the number, the bytes served
# are the image's (nbdcopy + cmp).
source ./functions.sh
set -x
set -o pipefail
requires qemu-img --version
requires qemu-nbd --version
requires nbdkit --version
requires nbdcopy --version
requires ss --version
requires python3 --version

cd "$tmp"
"$srcdir/make-sample-image" disk.img
qemu-img convert -f raw -O qcow2 disk.img disk.qcow2

# Connections of the remote that served a read, from nbdkit's log.
cat > conns.py <<'EOF'
import re, sys
print(len(set(re.findall(r'connection=(\d+) Read ', open(sys.argv[1]).read()))))
EOF

# serve_remote [FILTER PARAM]
serve_remote () {
    rm -f remote.log sock
    nbdkit -U "$tmp/sock" -P "$tmp/nbdkit.pid" ${1:+--filter=$1} --filter=log \
           file disk.img logfile="$tmp/remote.log" $2
    uri="nbd+unix:///?socket=$tmp/sock"
}
stop_remote () {
    kill "$(cat nbdkit.pid)"
    rm -f nbdkit.pid
}
cleanup_fn 'test ! -s "$tmp/nbdkit.pid" || kill $(cat "$tmp/nbdkit.pid")'

# A remote that allows multi-conn: 4 connections, each used.
serve_remote
virt-bmap-nbd -r "$uri" -U - --run 'nbdcopy "$uri" copy.img'
cmp copy.img disk.img
python3 conns.py remote.log > n
test "$(cat n)" -eq 4
stop_remote

# One that does not: one connection.
serve_remote multi-conn multi-conn-mode=disable
rm copy.img
virt-bmap-nbd -r "$uri" -U - --run 'nbdcopy "$uri" copy.img'
cmp copy.img disk.img
python3 conns.py remote.log > n
test "$(cat n)" -eq 1
stop_remote

# The qcow2's qemu-nbd (started --shared): 4 clients while we serve.
rm copy.img
virt-bmap-nbd -r disk.qcow2 -U - --run '
    q=$(pgrep -P $PPID -x qemu-nbd)
    ss -xp > ss.out
    grep -c "pid=$q," ss.out > n
    nbdcopy "$uri" copy.img'
cat ss.out
test "$(cat n)" -eq 4
cmp copy.img disk.img
