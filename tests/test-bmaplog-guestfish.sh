#!/usr/bin/env bash
# The libguestfs appliance reads a file through bmaplog; the trace
# shows that file.  (libguestfs 1.48 wants nbd://?socket=, and connects
# twice in a row.)
source ./functions.sh
set -x
requires guestfish --version
requires jq --version
export LIBGUESTFS_BACKEND=direct

"$srcdir/make-sample-image" "$tmp/disk.img"
virt-bmap -q -o "$tmp/disk.bmap" "$tmp/disk.img"

timeout 600 bmaplog -m "$tmp/disk.bmap" "$tmp/disk.img" -r -U - --no-log \
    --trace "$tmp/trace.jsonl" \
    --run 'guestfish --ro --format=raw -a "nbd://?socket=$unixsocket" run : mount-ro /dev/sda1 / : cat /etc/hostname' \
    > "$tmp/out"
grep -qx sample "$tmp/out"
jq -r 'select(.op == "read" and .kind == "f") | .path' "$tmp/trace.jsonl" |
    sort -u | grep_q -x /etc/hostname
# Connections that read (the header has no conn: a trace holding only
# it must fail here).
test "$(jq -s 'map(select(.op == "read") | .conn) | unique | length' \
        "$tmp/trace.jsonl")" -ge 1
