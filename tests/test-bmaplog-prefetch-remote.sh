#!/usr/bin/env bash
# --prefetch for an nbd+unix:// remote that allows multi-conn: the
# prefetcher reads on a connection of its own (the guest's reads go
# through the source's four, the fifth is the prefetcher's: counted in
# the remote nbdkit's log), so a guest request never queues behind a
# prefetch read.  The bytes served are the same with and without the
# plan (nbdcopy + cmp, and the raw image); the prefetcher's reads stay
# within the window ahead of the guest; a guest write to a range the
# prefetcher fetches later is still read back (its reads bypass the
# overlay); a remote without multi-conn shares the guest's connection.
source ./functions.sh
set -x
set -o pipefail
requires nbdsh --version
requires nbdcopy --version
requires nbdkit --version
requires python3 --version

cd "$tmp"
"$srcdir/make-sample-image" disk.img
virt-bmap -q -o disk.bmap disk.img

# The plan: the whole disk's data in nbdcopy's order.
bmaplog -m disk.bmap disk.img -U - --no-log --trace t.jsonl \
    --run 'nbdcopy "$uri" c0.img'
bmaplog report --prefetch p.plan t.jsonl
grep -v '^#\|^disk\|^bmaplog' p.plan | awk '{ print $2, $3 }' > ranges
test "$(wc -l < ranges)" -ge 4

# The remote, its requests logged; conn.py LOG prints "ID BYTES" for
# each connection (in the order they came, with the bytes they read);
# conn.py LOG last [FROM TO]: the bytes the last one to come (the
# prefetcher's) read, inside [FROM, TO).
serve_remote () {
    rm -f remote.log sock
    nbdkit -U "$tmp/sock" -P "$tmp/nbdkit.pid" -r ${1:+--filter=$1} \
           --filter=log file disk.img logfile="$tmp/remote.log" $2
    uri="nbd+unix:///?socket=$tmp/sock"
}
stop_remote () {
    kill "$(cat nbdkit.pid)"
    rm -f nbdkit.pid
}
cleanup_fn 'test ! -s "$tmp/nbdkit.pid" || kill $(cat "$tmp/nbdkit.pid")'
cat > conn.py <<'EOF'
import re, sys
log = open(sys.argv[1]).read()
conns = [int(c) for c in re.findall(r'connection=(\d+) Connect ', log)]
reads = [(int(c), int(o, 16), int(n, 16)) for c, o, n in re.findall(
    r'connection=(\d+) Read id=\d+ offset=0x([0-9a-f]+) count=0x([0-9a-f]+)',
    log)]
if len(sys.argv) == 2:
    for c in conns:
        print(c, sum(n for d, _, n in reads if d == c))
else:
    lo, hi = (int(x) for x in sys.argv[3:5]) if len(sys.argv) > 3 else (0, 1 << 64)
    c = conns[-1] if conns else -1
    print(sum(n for d, o, n in reads if d == c and lo <= o and o + n <= hi))
EOF

# Without and with the plan: the same bytes.
serve_remote
bmaplog -m disk.bmap "$uri" -U - --no-log --run 'nbdcopy "$uri" without.img'
: > remote.log
bmaplog -m disk.bmap --prefetch p.plan --prefetch-window 1M "$uri" -U - \
        --no-log --run 'nbdcopy "$uri" with.img' 2> err
cat err
cmp without.img with.img
cmp with.img disk.img
python3 conn.py remote.log | tee conns
# The source's 4 connections and the prefetcher's.
test "$(wc -l < conns)" -eq 5
# What the prefetcher said it read is what its connection read.
grep -q "prefetched $(tail -1 conns | cut -d' ' -f2) bytes" err

# The window: the guest reads the first range of the plan and waits
# (at most 60 s) until the prefetcher has read a window's worth, then
# a little longer; it must not have read more than the window and the
# chunk (256 KiB) it may have started below the window's end.
read -r o1 l1 < <(sed -n 1p ranges)
window=$((1024 * 1024))
: > remote.log
bmaplog -m disk.bmap --prefetch p.plan --prefetch-window $window "$uri" \
        -U - --no-log --run "nbdsh -u \"\$uri\" -c '
import subprocess, time
h.pread($l1, $o1)
for i in range(600):
    out = subprocess.run([\"python3\", \"conn.py\", \"remote.log\", \"last\"],
                         capture_output=True, text=True).stdout
    if int(out) >= $window:
        break
    time.sleep(0.1)
time.sleep(1)
'" 2> err
cat err
python3 conn.py remote.log | tee conns
test "$(wc -l < conns)" -eq 5
test "$(tail -1 conns | cut -d' ' -f2)" -ge $window
test "$(tail -1 conns | cut -d' ' -f2)" -le $((window + 256 * 1024))

# A guest write to the plan's second-to-last range before the
# prefetcher reads it: once the prefetcher has asked for the last
# range (waited for, at most 60 s; it reads in plan order, so it has
# read the range written to and kept it, or dropped it), the guest
# still reads back what it wrote, and the rest of the range as it was.
read -r ow lw < <(tail -2 ranges | head -1)
read -r ol ll < <(tail -1 ranges)
: > remote.log
bmaplog -m disk.bmap --prefetch p.plan --prefetch-window 1G "$uri" \
        -U - --no-log --run "nbdsh -u \"\$uri\" -c '
import subprocess, time
h.pwrite(b\"w\" * 512, $ow)
h.pread($l1, $o1)
for i in range(600):
    out = subprocess.run([\"python3\", \"conn.py\", \"remote.log\", \"last\",
                          \"$ol\", \"$((ol + ll))\"],
                         capture_output=True, text=True).stdout
    if int(out) > 0:
        break
    time.sleep(0.1)
assert int(out) > 0, out
assert h.pread(512, $ow) == b\"w\" * 512
assert h.pread($lw - 512, $ow + 512) == open(\"disk.img\", \"rb\").read()[$ow + 512:$ow + $lw]
'" 2> err
cat err
stop_remote

# A remote without multi-conn: one connection, shared, the same bytes.
serve_remote multi-conn multi-conn-mode=disable
rm -f with.img
bmaplog -m disk.bmap --prefetch p.plan "$uri" -U - --no-log \
        --run 'nbdcopy "$uri" with.img' 2> err
cat err
grep -q 'the remote does not allow multi-conn: prefetching shares' err
cmp with.img disk.img
python3 conn.py remote.log | tee conns
# (The prefetcher's probe connected, saw no multi-conn, read nothing.)
test "$(awk '$2 > 0' conns | wc -l)" -eq 1
stop_remote
