#!/usr/bin/env bash
# A short, reproducible libFuzzer run of the ext2/3/4 reader
# (./configure --enable-fuzzing): lib/fuzz-image maps each input as a
# disk (first byte 0: sector size detected), read by libext2fs through
# our io_manager.  Seeds made here: small ext2, ext3 (journal), ext4
# (extents, an extent tree, inline data), with a directory of 40 names,
# hard links, fast and slow symlinks, a sparse and an indirect file;
# and the inputs that crashed a reader once (ext2-fuzz-regressions),
# replayed first.
# For a long run: keep the seeds (FUZZ_SEEDS=DIR make check TESTS=this),
#   lib/fuzz-image -jobs=2 CORPUS DIR
source ./functions.sh
set -x
fuzzer=$top_builddir/lib/fuzz-image
requires test -x $fuzzer
requires mke2fs -V

seeds=$tmp/seeds
root=$tmp/root
mkdir $seeds $tmp/corpus $root $root/dir $root/dir/sub
for i in $(seq 1 40); do echo "file $i" > $root/dir/f$i; done
echo small > $root/dir/sub/s
ln $root/dir/f2 $root/hard
ln -s dir/f1 $root/link
ln -s "$(printf 'x%.0s' {1..100})" $root/longlink
# 70 KiB: past the 12 direct blocks of 1 KiB, so indirect on ext2.
repeat 0123456789abcdef 70000 > $root/big
# Eight islands of data: more extents than fit in the inode.
for i in $(seq 0 7); do
    echo "island $i" |
        dd of=$root/frag bs=1 seek=$((i * 8192)) conv=notrunc status=none
done
truncate -s 300K $root/sparse
echo tail >> $root/sparse

# The same seeds on every run, so the run is reproducible: a fixed
# UUID and hash seed (mke2fs draws them at random), and every inode's
# times set to E2FSPROGS_FAKE_TIME's (-d copies them from $root, whose
# ctimes are now).
(cd $root && find . -mindepth 1) | sed 's|^\.||' > $tmp/paths
echo / >> $tmp/paths
while read -r p; do
    for f in atime mtime ctime; do
        echo "sif \"$p\" $f @$E2FSPROGS_FAKE_TIME"
    done
done < $tmp/paths > $tmp/times
n=0
for opts in "-t ext4" "-t ext4 -O inline_data" "-t ext2" "-t ext3 -J size=1"; do
    size=512K
    case $opts in *ext3*) size=4M ;; esac
    img=$tmp/fs$n.img
    truncate -s $size $img
    mke2fs -q -F -b 1024 -N 64 -U $TEST_UUID -E root_owner=0:0,hash_seed=$TEST_UUID \
        $opts -d $root $img
    debugfs -w -f $tmp/times $img > $tmp/sif 2>&1
    grep -v '^debugfs' $tmp/sif > $tmp/sif-errors || :
    if [ -s $tmp/sif-errors ]; then cat $tmp/sif-errors; fail "debugfs sif"; fi
    e2fsck -fn $img
    { printf '\0'; cat $img; } > $seeds/fs$n
    n=$((n + 1))
done
# The reader must have something to chew on: an extent tree of depth 1.
debugfs -R 'ex /frag' $tmp/fs0.img > $tmp/stat
grep -q 'Level Entries' $tmp/stat

if [ -n "${FUZZ_SEEDS:-}" ]; then
    mkdir -p "$FUZZ_SEEDS"
    cp $seeds/* "$FUZZ_SEEDS"
fi

for f in "$srcdir"/ext2-fuzz-regressions/*; do
    [ -f "$f" ] || continue
    $fuzzer -error_exitcode=1 -timeout=10 -rss_limit_mb=2048 "$f"
done

timeout 600 $fuzzer -error_exitcode=1 -seed=1 -runs=3000 -max_len=4194305 \
    -timeout=10 -rss_limit_mb=2048 \
    $tmp/corpus $seeds
