#!/usr/bin/env bash
# bmaplog report --prefetch: a plan from real traces (nbdsh reading
# through bmaplog) covers every read the client made, in the order it
# first made them, and nothing else (oracle: the client's own list of
# reads, prefetch-check-plan); two traces merge into their union; a
# trace of another image is refused, and a failed run leaves no plan.
source ./functions.sh
set -x
set -o pipefail
requires nbdsh --version
requires python3 --version

cd "$tmp"
"$srcdir/make-sample-image" disk.img
virt-bmap -q -o disk.bmap disk.img
size=$(stat -c %s disk.img)
MiB=1048576

# Reads out of disk order, some overlapping, some touching, one
# repeated: "offset length", in the order sent.
cat > reads1 <<EOF2
$((40 * MiB)) 65536
0 4096
$((2 * MiB)) 131072
$((2 * MiB + 65536)) 131072
$((40 * MiB)) 4096
$((10 * MiB)) 512
$((10 * MiB + 512)) 512
$((63 * MiB)) $MiB
4096 4096
EOF2
cat > reads2 <<EOF2
$((63 * MiB)) 4096
$((20 * MiB)) 8192
$((2 * MiB)) 4096
0 8192
EOF2
cat > read.py <<'EOF2'
import sys
for line in open(sys.argv[1]):
    off, n = map(int, line.split())
    h.pread(n, off)
EOF2
trace () {
    bmaplog -m "${map:-disk.bmap}" "$1" -U - --no-log --trace "$2" \
        --run "nbdsh -u \"\$uri\" -c 'import sys; sys.argv = [\"\", \"$3\"]' -c \"exec(open('read.py').read())\""
}
trace disk.img t1.jsonl reads1
trace disk.img t2.jsonl reads2

bmaplog report --prefetch p1.plan t1.jsonl
cat p1.plan
"$srcdir/prefetch-check-plan" p1.plan $size reads1

# A TSV trace gives the same plan.
bmaplog -m disk.bmap disk.img -U - --no-log --trace t1.tsv --trace-format tsv \
    --run "nbdsh -u \"\$uri\" -c 'import sys; sys.argv = [\"\", \"reads1\"]' -c \"exec(open('read.py').read())\""
bmaplog report --prefetch p1tsv.plan t1.tsv
diff <(grep -v '^#' p1.plan | awk '{ print $2, $3 }') \
     <(grep -v '^#' p1tsv.plan | awk '{ print $2, $3 }')

# Two traces: the union, times in order.
bmaplog report --prefetch p12.plan t1.jsonl t2.jsonl
cat p12.plan
"$srcdir/prefetch-check-plan" p12.plan $size reads1 reads2
# A range read only by the second trace has its time from there: the
# median of one time (oracle: the trace's own record).
t20=$(python3 -c '
import json
for l in open("t2.jsonl"):
    r = json.loads(l)
    if r.get("op") == "read" and r.get("offset") == 20 * 1048576:
        print(r["t_ns"]); break')
grep -qx "$t20 $((20 * MiB)) 8192" p12.plan

# The identity is the disk's: the same plan from the same content
# elsewhere; another image of the same size (one byte changed in a
# sampled block) is refused when merged.
cp disk.img other.img
printf 'X' | dd of=other.img bs=1 seek=$((size / 17 * 7 / 4096 * 4096)) conv=notrunc
# (bmaplog itself refuses disk.bmap for it: its own map.)
virt-bmap -q -o other.bmap other.img
map=other.bmap trace other.img t3.jsonl reads2
bmaplog report --prefetch p3.plan t3.jsonl
test "$(grep ^disk p3.plan)" != "$(grep ^disk p1.plan)"
expect_fail bmaplog report --prefetch p13.plan t1.jsonl t3.jsonl 2>err
cat err
grep -q 'is not the first trace' err
test ! -e p13.plan

# A failed run leaves an earlier plan intact.
cp p1.plan keep.plan
echo 'not a trace' > bad.jsonl
expect_fail bmaplog report --prefetch p1.plan bad.jsonl
cmp p1.plan keep.plan
expect_fail bmaplog report --prefetch p1.plan --diff t1.jsonl t2.jsonl
expect_fail bmaplog report --prefetch p1.plan
