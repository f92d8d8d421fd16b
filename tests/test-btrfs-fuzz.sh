#!/usr/bin/env bash
# A short, reproducible libFuzzer run of the whole btrfs reader
# (./configure --enable-fuzzing) from seeds made here: small
# filesystems of mkfs.btrfs --rootdir (DUP and SINGLE metadata, 4 KiB
# and 16 KiB nodes, inline and regular extents, hard links, symlinks),
# and one device of a two-device RAID1 (the other one missing).
# For a long run:  lib/fs/btrfs/fuzz-btrfs -jobs=2 CORPUS SEEDS
source ./functions.sh
set -x
fuzzer=$top_builddir/lib/fs/btrfs/fuzz-btrfs
requires test -x $fuzzer
requires mkfs.btrfs --version
requires python3 --version

src=$tmp/src
mkdir -p $src/d/e $src/many $tmp/seeds $tmp/corpus
for i in $(seq 1 40); do echo "file $i" > $src/many/file-with-a-long-name-$i; done
echo hello > $src/d/e/small
ln $src/d/e/small $src/d/link
ln -s ../d/e/small $src/many/sym
head -c 20000 /dev/urandom > $src/d/big

n=0
for opts in "" "-m single -n 4096"; do
    n=$((n + 1))
    truncate -s 128m $tmp/img$n
    mkfs.btrfs -q -f --rootdir $src $opts $tmp/img$n
    "$srcdir/xfs-fuzz-seed" $tmp/img$n $tmp/seeds/seed$n
done
truncate -s 128m $tmp/raid-a $tmp/raid-b
mkfs.btrfs -q -f -d raid1 -m raid1 $tmp/raid-a $tmp/raid-b
"$srcdir/xfs-fuzz-seed" $tmp/raid-a $tmp/seeds/seed-raid1

timeout 600 $fuzzer -error_exitcode=1 -seed=1 -runs=3000 -timeout=20 \
    -rss_limit_mb=2048 -max_len=2000000 $tmp/corpus $tmp/seeds
