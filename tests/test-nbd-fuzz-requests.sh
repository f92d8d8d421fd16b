#!/usr/bin/env bash
# A short, reproducible libFuzzer run of the transmission phase:
# requests fed after a valid handshake (./configure --enable-fuzzing).
# See README.
source ./functions.sh
set -x
fuzzer=$top_builddir/nbdserver/fuzz-nbdserver-requests
requires test -x $fuzzer

mkdir $tmp/corpus
# Bounded by a count, not a time, with a fixed seed: reproducible.
timeout 300 $fuzzer -error_exitcode=1 -seed=1 -runs=100000 -timeout=10 -rss_limit_mb=2048 \
    $tmp/corpus $top_srcdir/nbdserver/fuzz-request-seeds
