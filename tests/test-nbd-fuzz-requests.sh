#!/usr/bin/env bash
# A short libFuzzer run of the transmission phase: requests fed after a
# valid handshake (./configure --enable-fuzzing).  See README.
source ./functions.sh
set -x
fuzzer=$top_builddir/nbdserver/fuzz-nbdserver-requests
requires test -x $fuzzer

mkdir $tmp/corpus
timeout 300 $fuzzer -error_exitcode=1 -max_total_time=20 -timeout=10 -rss_limit_mb=2048 \
    $tmp/corpus $top_srcdir/nbdserver/fuzz-request-seeds
