#!/usr/bin/env bash
# A short, reproducible libFuzzer run of the whole XFS reader
# (./configure --enable-fuzzing) from seeds made here: small v4 and v5
# (reflink, rmapbt) filesystems with shortform, block and leaf
# directories, inline and remote symlinks, files and devices.
# For a long run: keep the seeds (FUZZ_SEEDS=DIR make check TESTS=this),
#   lib/fs/xfs/fuzz-xfs -jobs=2 -max_len=1000000 CORPUS DIR
source ./functions.sh
set -x
fuzzer=$top_builddir/lib/fs/xfs/fuzz-xfs
requires test -x $fuzzer
requires mkfs.xfs -V
requires python3 --version
requires fixed_time true

src=$tmp/src
mkdir -p $src/d/e $src/many $tmp/seeds $tmp/corpus
for i in $(seq 1 300); do : > $src/many/file-with-a-long-name-$i; done
echo hello > $src/d/e/small
printf 'x%.0s' $(seq 1 9000) > $src/d/big
# mkfs.xfs 6.1 writes a remote symlink without the v5 block header
# (xfs_repair then clears it): the long link only on v4.
proto ()
{
    echo /dev/null; echo 0 0; echo d--755 0 0
    echo " small ---644 0 0 $src/d/e/small"
    echo " big ---644 0 0 $src/d/big"
    echo " d d--755 0 0"
    echo "  e d--755 0 0"; echo "  $"
    echo "  link l--777 0 0 ../small"
    if [ "$1" = v4 ]; then
        echo "  longlink l--777 0 0 $(printf 'y%.0s' $(seq 1 600))"
    fi
    echo "  fifo p--644 0 0"; echo " $"
    echo " many d--755 0 0"
    for i in $(seq 1 300); do
        echo "  file-with-a-long-name-$i ---644 0 0 $src/many/file-with-a-long-name-$i"
    done
    echo " $"; echo "$"
}
proto v4 > $tmp/proto4
proto v5 > $tmp/proto5

# mkfs.xfs refuses filesystems under 300 MB unless run by xfstests:
# these variables say it is, for small images.
export QA_CHECK_FS=1 TEST_DIR=$tmp TEST_DEV=$tmp/none
n=0
for opts in "-m crc=0" "-m crc=1,reflink=1,rmapbt=1" \
            "-m crc=1,finobt=1 -i sparse=1 -n size=8192"; do
    n=$((n + 1))
    truncate -s 32m $tmp/img$n
    v=5; [ $n = 1 ] && v=4
    # The same seeds on every run, so the run is reproducible: a fixed
    # UUID, and a stopped clock (mkfs.xfs stamps inodes with it and
    # seeds their generation numbers from it).
    fixed_time mkfs.xfs -q -f -d agcount=2 $opts -m uuid=$TEST_UUID \
        -p $tmp/proto$v $tmp/img$n
    # The oracle agrees it is sound, so the seeds are good ones.
    xfs_repair -n -f $tmp/img$n
    "$srcdir/xfs-fuzz-seed" $tmp/img$n $tmp/seeds/seed$n
done

if [ -n "${FUZZ_SEEDS:-}" ]; then
    mkdir -p "$FUZZ_SEEDS"
    cp $tmp/seeds/* "$FUZZ_SEEDS"
fi

timeout 600 $fuzzer -error_exitcode=1 -seed=1 -runs=3000 -timeout=20 -rss_limit_mb=2048 \
    -max_len=1000000 $tmp/corpus $tmp/seeds
