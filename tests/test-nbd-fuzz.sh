#!/usr/bin/env bash
# A short, reproducible libFuzzer run of the server's -s path from the
# captured seeds (./configure --enable-fuzzing).  For a long run see
# README.
source ./functions.sh
set -x
fuzzer=$top_builddir/nbdserver/fuzz-nbdserver
requires test -x $fuzzer

mkdir $tmp/corpus
# Bounded by a count, not a time, with a fixed seed: reproducible.
timeout 300 $fuzzer -error_exitcode=1 -seed=1 -runs=100000 -timeout=10 -rss_limit_mb=2048 \
    $tmp/corpus $top_srcdir/nbdserver/fuzz-seeds
