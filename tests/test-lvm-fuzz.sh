#!/usr/bin/env bash
# A short, reproducible libFuzzer run of the LVM metadata reader
# (./configure --enable-fuzzing) from its seeds: the metadata of the
# test image's two VGs and a hand-made VG with every segment type.
# For a long run:  lib/volume/fuzz-lvm -jobs=2 CORPUS tests/lvm-fuzz-seeds
source ./functions.sh
set -x
fuzzer=$top_builddir/lib/volume/fuzz-lvm
requires test -x $fuzzer

mkdir $tmp/corpus
timeout 600 $fuzzer -error_exitcode=1 -seed=1 -runs=50000 -timeout=10 -rss_limit_mb=2048 \
    $tmp/corpus "$srcdir/lvm-fuzz-seeds"
