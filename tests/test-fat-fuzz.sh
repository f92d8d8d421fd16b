#!/usr/bin/env bash
# A short, reproducible libFuzzer run of the FAT/exFAT boot sector
# parser (./configure --enable-fuzzing) from its seeds: the boot
# sectors mkfs.vfat -F 12/16/32 and mkfs.exfat write.
# For a long run:  lib/fs/fat/fuzz-fat -jobs=2 CORPUS tests/fat-fuzz-seeds
source ./functions.sh
set -x
fuzzer=$top_builddir/lib/fs/fat/fuzz-fat
requires test -x $fuzzer

mkdir $tmp/corpus
timeout 600 $fuzzer -error_exitcode=1 -seed=1 -runs=200000 -timeout=10 -rss_limit_mb=2048 \
    $tmp/corpus "$srcdir/fat-fuzz-seeds"
