#!/usr/bin/env bash
# A short, reproducible libFuzzer run of the xz source
# (./configure --enable-fuzzing): lib/source/fuzz-xz opens each input
# as an xz image (first byte: the cache size) and reads it.  Seeds
# made here with xz: blocks of 4 KiB (each check type), one block
# bigger than the cache (streamed), two streams with padding between
# them, an empty image; and the inputs that crashed it once
# (source-xz-fuzz-regressions), replayed first.
# For a long run: keep the seeds (FUZZ_SEEDS=DIR make check TESTS=this),
#   lib/source/fuzz-xz -jobs=2 CORPUS DIR
source ./functions.sh
set -x
fuzzer=$top_builddir/lib/source/fuzz-xz
requires test -x $fuzzer
requires xz --version

seeds=$tmp/seeds
mkdir $seeds $tmp/corpus
# Mostly compressible, with some noise so blocks differ.
{ repeat 'virt-bmap xz seed' 20000; head -c 4096 /dev/zero | tr '\0' '\1';
  seq 1 3000; } > $tmp/data

# seed NAME CACHEBYTE FILE
seed ()
{
    { printf "\\$(printf %03o $2)"; cat "$3"; } > $seeds/$1
}
for check in none crc32 crc64 sha256; do
    xz -c --block-size=4096 --check=$check $tmp/data > $tmp/b-$check.xz
    seed blocks-$check 0 $tmp/b-$check.xz
done
# 200 KiB in one block: more than the 64 KiB cache, so streamed.
for i in 1 2 3 4 5 6 7; do cat $tmp/data; done | xz -c > $tmp/single.xz
seed single 0 $tmp/single.xz
seed single-bigcache 1 $tmp/single.xz
{ cat $tmp/b-crc32.xz; head -c 8 /dev/zero; cat $tmp/b-crc64.xz; } > $tmp/two.xz
xz -t $tmp/two.xz
seed two-streams 0 $tmp/two.xz
xz -c < /dev/null > $tmp/empty.xz
seed empty 0 $tmp/empty.xz
# Many blocks indeed (totals: streams, blocks, ...).
xz --robot -l $tmp/b-crc32.xz > $tmp/list
test "$(awk '$1 == "totals" { print $3 }' $tmp/list)" -ge 5

if [ -n "${FUZZ_SEEDS:-}" ]; then
    mkdir -p "$FUZZ_SEEDS"
    cp $seeds/* "$FUZZ_SEEDS"
fi

for f in "$srcdir"/source-xz-fuzz-regressions/*; do
    [ -f "$f" ] || continue
    $fuzzer -error_exitcode=1 -timeout=10 -rss_limit_mb=2048 "$f"
done

timeout 600 $fuzzer -error_exitcode=1 -seed=1 -runs=2000 -timeout=10 -rss_limit_mb=2048 \
    $tmp/corpus $seeds
