#!/usr/bin/env bash
# --prefetch PLAN (bmaplog and virt-bmap-nbd): serving with a plan gives
# the same bytes as the raw image (nbdcopy + cmp) from raw, a
# multi-block xz, a qcow2 and an nbd+unix:// URI, and the guest's use
# of the plan is counted at exit; a plan for another image (same size,
# one sampled byte changed), of another size, or malformed is refused
# with a clear error; a plan 32 times the xz block cache, walked with a
# window larger than the disk, keeps the server's peak RSS (VmHWM)
# far below the disk's size; a traced boot with a plan has the same
# reads as without.
source ./functions.sh
set -x
set -o pipefail
requires nbdsh --version
requires nbdcopy --version
requires nbdkit --version
requires qemu-img --version
requires xz --version

cd "$tmp"
"$srcdir/make-sample-image" disk.img
virt-bmap -q -o disk.bmap disk.img
size=$(stat -c %s disk.img)
qemu-img convert -f raw -O qcow2 disk.img disk.qcow2
xz -T1 -k -c --block-size=1MiB disk.img > disk.img.xz
nbdkit -U "$tmp/sock" -P "$tmp/nbdkit.pid" -r file disk.img
cleanup_fn 'kill $(cat "$tmp/nbdkit.pid")'
uri="nbd+unix:///?socket=$tmp/sock"

# The plan: what a real client read through bmaplog (the whole disk's
# data, in nbdcopy's order).
bmaplog -m disk.bmap disk.img -U - --no-log --trace t.jsonl \
    --run 'nbdcopy "$uri" c0.img'
cmp c0.img disk.img
bmaplog report --prefetch p.plan t.jsonl
n=$(grep -vc '^#\|^disk\|^bmaplog' p.plan)
test "$n" -ge 2

for src in disk.img disk.img.xz disk.qcow2 "$uri"; do
    for prog in virt-bmap-nbd "bmaplog -m disk.bmap --no-log"; do
        rm -f copy.img
        $prog --prefetch p.plan --prefetch-window 1M "$src" -U - \
            --run 'nbdcopy "$uri" copy.img' 2>err
        cat err
        cmp copy.img disk.img
        # nbdcopy reads every data range: from the raw disk (which the
        # plan was made from) and the xz (all data) the whole plan is
        # used; a qcow2 has holes where the raw disk had zeroes.
        case "$src" in
            disk.img|disk.img.xz) used=$n ;;
            *) used='[1-9][0-9]*' ;;
        esac
        grep -q "prefetch: the guest read $used of the plan's $n ranges" err
    done
done
# The trace has the guest's reads only, not the prefetcher's: the
# same reads as without the plan (in nbdcopy's order, which varies).
bmaplog -m disk.bmap --prefetch p.plan disk.img -U - --no-log \
    --trace tp.jsonl --run 'nbdcopy "$uri" copy.img'
reads () {
    python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("op") == "read":
        print(r["offset"], r["length"])' "$1" | sort -n > "$2"
}
reads t.jsonl r0
reads tp.jsonl r1
cmp r0 r1

# The same with several connections and the default window.
virt-bmap-nbd --prefetch p.plan disk.img.xz -U - \
    --run 'nbdcopy --connections=4 "$uri" copy.img'
cmp copy.img disk.img

# A remote disk keeps the prefetched chunks in memory: a guest write
# through the overlay must drop them.  The guest reads the plan's
# first range, leaves time for the prefetcher, writes inside the
# second range and reads it back.
read -r o2 l2 < <(grep -v '^#\|^disk\|^bmaplog' p.plan | sed -n 2p | awk '{ print $2, $3 }')
read -r o1 < <(grep -v '^#\|^disk\|^bmaplog' p.plan | sed -n 1p | awk '{ print $2 }')
bmaplog -m disk.bmap --prefetch p.plan "$uri" -U - --no-log \
    --run "nbdsh -u \"\$uri\" -c '
import time
h.pread(4096, $o1)
time.sleep(0.5)
h.pwrite(b\"w\" * 4096, $o2)
assert h.pread(4096, $o2) == b\"w\" * 4096
assert h.pread(4096, $o2 + 4096) == open(\"disk.img\", \"rb\").read()[$o2 + 4096:$o2 + 8192]
'" 2>err
cat err
grep -q 'served from the prefetched chunks in memory' err

# A single-block xz bigger than its cache is streamed: its plan is
# checked (the identity's reads go forward: at most the one restart
# nbdcopy's first read makes) but not prefetched, which is said with
# how to recompress it; the bytes are the same.
xz -T1 -k -c disk.img > single.xz
rm -f copy.img
VIRT_BMAP_XZ_CACHE=4M virt-bmap-nbd -v --prefetch p.plan single.xz -U - \
    --run 'nbdcopy "$uri" copy.img' 2>err
cat err
cmp copy.img disk.img
grep -q "single.xz: a single-block xz is decoded in order only: the plan is checked but cannot be prefetched" err
grep -q -- "xz -dc 'single.xz' | xz --block-size=16MiB" err
if grep -q 'prefetch: the guest read' err; then fail 'prefetched'; fi
grep -q 'decompressed .*, [01] restarts' err

# Another image of the same size: refused, saying why.
cp disk.img other.img
printf 'X' | dd of=other.img bs=1 seek=$((size / 17 * 7 / 4096 * 4096)) conv=notrunc
expect_fail virt-bmap-nbd --prefetch p.plan other.img -U - --run true 2>err
cat err
grep -q 'the prefetch plan was made for another disk of the same size' err
# (With its own map: disk.bmap is refused for it before the plan is
# looked at.)
virt-bmap -q -o other.bmap other.img
expect_fail bmaplog -m other.bmap --prefetch p.plan other.img -U - --run true 2>err
grep -q 'the prefetch plan was made for another disk' err
expect_fail bmaplog -m disk.bmap --prefetch p.plan other.img -U - --run true 2>err
grep -q 'disk.bmap does not belong to other.img' err
# Another size.
truncate -s $((size * 2)) big.img
expect_fail virt-bmap-nbd --prefetch p.plan big.img -U - --run true 2>err
grep -q "made for a disk of $size bytes" err
# Malformed plans.
printf 'bmaplog-prefetch 1\ndisk 0 %s id1:x\n0 0 4096\n1 2048 4096\n' $size > overlap.plan
expect_fail virt-bmap-nbd --prefetch overlap.plan disk.img -U - --run true 2>err
grep -q 'overlap' err
printf 'bmaplog-prefetch 1\n0 0 4096\n' > nodisk.plan
expect_fail virt-bmap-nbd --prefetch nodisk.plan disk.img -U - --run true 2>err
grep -q 'line 2: a range before any disk line' err
printf 'bmaplog-prefetch 1\ndisk 0 %s id1:x\n0 -1 4096\n' $size > neg.plan
expect_fail virt-bmap-nbd --prefetch neg.plan disk.img -U - --run true 2>err
grep -q 'line 3: bad range line' err
expect_fail virt-bmap-nbd --prefetch t.jsonl disk.img -U - --run true
expect_fail virt-bmap-nbd --prefetch p.plan --prefetch-window 0 disk.img -U - --run true
expect_fail virt-bmap-nbd --prefetch p.plan --prefetch-window 1X disk.img -U - --run true

# Memory: a 256 MiB disk as xz with 1 MiB blocks and an 8 MiB block
# cache; the plan covers the whole disk (its identity from a real
# plan), the window is larger than the disk.
truncate -s 256M z.img
printf 'first' | dd of=z.img conv=notrunc
xz -0 -T1 -k -c --block-size=1MiB z.img > z.img.xz
virt-bmap -q -o z.bmap z.img
bmaplog -m z.bmap z.img -U - --no-log --trace z.jsonl \
    --run 'nbdsh -u "$uri" -c "h.pread(4096, 0)"'
bmaplog report --prefetch z0.plan z.jsonl
{
    echo 'bmaplog-prefetch 1'
    grep ^disk z0.plan
    for i in $(seq 0 255); do echo "$i $((i * 1048576)) 1048576"; done
} > z.plan
VIRT_BMAP_XZ_CACHE=8M virt-bmap-nbd --prefetch z.plan --prefetch-window 1G \
    -U "$tmp/zsock" -P "$tmp/z.pid" z.img.xz 2>zerr
for i in $(seq 300); do test -s "$tmp/z.pid" && break; sleep 0.1; done
cleanup_fn 'kill $(cat "$tmp/z.pid") 2>/dev/null'
# Reads scattered over the disk, with pauses in which the prefetcher
# walks the plan; then the whole disk.
nbdsh -u "nbd+unix:///?socket=$tmp/zsock" -c '
import time
for i in range(0, 256, 32):
    h.pread(4096, i * 1048576)
    time.sleep(0.05)
for i in range(256):
    assert h.pread(1048576, i * 1048576)[:5] == (b"first" if i == 0 else bytes(5))
'
hwm=$(awk '/^VmHWM:/ { print $2 }' /proc/$(cat "$tmp/z.pid")/status)
echo "peak RSS: $hwm kB"
kill $(cat "$tmp/z.pid")
test "$hwm" -lt $((96 * 1024))
