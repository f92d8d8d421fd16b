#!/usr/bin/env bash
# A short, reproducible libFuzzer run of the NTFS reader
# (./configure --enable-fuzzing): lib/fuzz-image maps each input as a
# disk (first byte 0: sector size detected); libntfs-3g mounts it
# through our device operations and record.c parses the plain MFT
# records itself (fixups, attributes, run lists).  Seed made here: a
# 2 MiB NTFS (mkntfs, 512-byte clusters) with a directory, a resident
# and a non-resident file, a named stream, a hard link, a fragmented
# pair, a sparse and a compressed file (ntfs-helper); and the inputs
# that crashed a reader once (ntfs-fuzz-regressions), replayed first.
# For a long run: keep the seeds (FUZZ_SEEDS=DIR make check TESTS=this),
#   lib/fuzz-image -jobs=2 CORPUS DIR
source ./functions.sh
set -x
fuzzer=$top_builddir/lib/fuzz-image
requires test -x $fuzzer
requires_ntfs   # and the full malloc stacks its lsan.supp entries need

requires fixed_time true

# The same seed on every run, so the run is reproducible: mkntfs with
# its time zero (it seeds its serial number and GUIDs from it), our
# helper's libntfs-3g with a stopped clock.
helper="fixed_time ./ntfs-helper"
seeds=$tmp/seeds
img=$tmp/ntfs.img
mkdir $seeds $tmp/corpus
truncate -s 2M $img
mkntfs -q -F -f -T -s 512 -c 512 $img
echo hello > $tmp/small
repeat 0123456789abcdef 20000 > $tmp/big
$helper mkdir $img /dir
$helper cmkdir $img /packed
$helper cp $img $tmp/small /dir/small
$helper cp $img $tmp/big /dir/big
$helper cp $img $tmp/small /dir/big:stream
$helper link $img /dir/small /hard
$helper frag $img /f1 /f2 $tmp/big 1024
$helper sparse $img /sparse $tmp/small 100000 200000
$helper cp $img $tmp/big /packed/big
ntfsls -R $img > $tmp/ls
grep -qx 'small' $tmp/ls
{ printf '\0'; cat $img; } > $seeds/ntfs

if [ -n "${FUZZ_SEEDS:-}" ]; then
    mkdir -p "$FUZZ_SEEDS"
    cp $seeds/* "$FUZZ_SEEDS"
fi

for f in "$srcdir"/ntfs-fuzz-regressions/*; do
    [ -f "$f" ] || continue
    $fuzzer -error_exitcode=1 -timeout=10 -rss_limit_mb=2048 "$f"
done

timeout 600 $fuzzer -error_exitcode=1 -seed=1 -runs=1500 -max_len=2097153 \
    -timeout=10 -rss_limit_mb=2048 \
    $tmp/corpus $seeds
