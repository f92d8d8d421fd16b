#!/usr/bin/env bash
# A short, reproducible libFuzzer run of the trace reader of bmaplog
# report and its aggregation (./configure --enable-fuzzing):
# tools/bmaplog/fuzz-trace reads each input as a trace.  Seeds made
# here by bmaplog itself: a JSON Lines and a TSV trace of nbdsh reading
# and writing the sample image; the same without their headers; and
# the inputs that crashed it once (report-fuzz-regressions), replayed
# first.
# For a long run: keep the seeds (FUZZ_SEEDS=DIR make check TESTS=this),
#   tools/bmaplog/fuzz-trace -jobs=2 CORPUS DIR
source ./functions.sh
set -x
fuzzer=$top_builddir/tools/bmaplog/fuzz-trace
requires test -x $fuzzer
requires nbdsh --version

seeds=$tmp/seeds
mkdir $seeds $tmp/corpus
"$srcdir/make-sample-image" "$tmp/disk.img"
virt-bmap -q -o "$tmp/disk.bmap" "$tmp/disk.img"
run="nbdsh -u \"\$uri\" -c 'h.pread(65536, 1048576 - 1000)' \
    -c 'h.pread(4096, 0)' -c 'h.pwrite(b\"x\" * 512, 1048576 + 4096)'"
for fmt in jsonl tsv; do
    bmaplog -m "$tmp/disk.bmap" "$tmp/disk.img" -U - --no-log \
        --trace "$seeds/trace.$fmt" --trace-format $fmt --run "$run"
    test "$(grep -c 'read' "$seeds/trace.$fmt")" -ge 3
    grep -q 'write' "$seeds/trace.$fmt"
done
# The same seeds on every run, so the run is reproducible: what changes
# from run to run (times, durations, our temporary paths, the image's
# mtime) made constant, and the records sorted (the server's threads
# may log a request's pieces after the next request's).
for fmt in jsonl tsv; do
    sed -E -e "s|$tmp|/tmp/t|g" \
        -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/2023-11-14T22:13:20Z/g' \
        -e 's/"t_ns":[0-9]+/"t_ns":1000/' -e 's/^[0-9]+\t/1000\t/' \
        -e 's/"mtime":[0-9]+/"mtime":1700000000/' \
        -e 's/^(#image\t.*\t)[0-9]+$/\11700000000/' \
        "$seeds/trace.$fmt" > "$tmp/fixed.$fmt"
    header='^#|bmaplog_trace'
    grep -E "$header" "$tmp/fixed.$fmt" > "$seeds/trace.$fmt"
    grep -vE "$header" "$tmp/fixed.$fmt" | sort >> "$seeds/trace.$fmt"
done
grep -v bmaplog_trace "$seeds/trace.jsonl" > "$seeds/noheader.jsonl"
grep -v '^#' "$seeds/trace.tsv" > "$seeds/noheader.tsv"
cmp -s "$seeds/trace.jsonl" "$seeds/noheader.jsonl" && fail "no JSON header"
cmp -s "$seeds/trace.tsv" "$seeds/noheader.tsv" && fail "no TSV header"

if [ -n "${FUZZ_SEEDS:-}" ]; then
    mkdir -p "$FUZZ_SEEDS"
    cp $seeds/* "$FUZZ_SEEDS"
fi

for f in "$srcdir"/report-fuzz-regressions/*; do
    [ -f "$f" ] || continue
    $fuzzer -error_exitcode=1 -timeout=10 -rss_limit_mb=2048 "$f"
done

timeout 600 $fuzzer -error_exitcode=1 -seed=1 -runs=10000 -timeout=10 -rss_limit_mb=2048 \
    $tmp/corpus $seeds
