#!/usr/bin/env bash
# The library with a backend of its own: request and connection hooks.
source ./functions.sh
set -x

timeout 60 ./test-nbd-hook
