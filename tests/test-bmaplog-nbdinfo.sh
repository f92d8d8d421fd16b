#!/usr/bin/env bash
# Reads by a real NBD client are traced, cut at object boundaries, with
# the offset inside each file (oracle: debugfs says where the file is).
source ./functions.sh
set -x
requires nbdsh --version
requires jq --version

"$srcdir/make-sample-image" "$tmp/disk.img"
virt-bmap -q -o "$tmp/disk.bmap" "$tmp/disk.img"
part=$((2048 * 512))
bs=$(dumpe2fs -h "$tmp/disk.img?offset=$part" 2>/dev/null | awk '/^Block size:/ { print $3 }')
# The oracle: the first block of numbers.txt per debugfs.
blk=$(debugfs -R "bmap /usr/share/doc/numbers.txt 0" "$tmp/disk.img?offset=$part" 2>/dev/null)
off=$((part + blk * bs))

# One read that starts 100 bytes before the file's first block and
# runs 3 blocks in: two pieces, the second at offset 0 of the file.
bmaplog -m "$tmp/disk.bmap" "$tmp/disk.img" -U - --no-log \
    --trace "$tmp/trace.jsonl" --run "nbdsh -u \"\$uri\" -c 'h.pread($((3 * bs + 100)), $((off - 100)))'"

jq -c 'select(.op == "read")' "$tmp/trace.jsonl" > "$tmp/reads"
cat "$tmp/reads"
test "$(wc -l < "$tmp/reads")" -ge 2
jq -e -s --argjson off $off --argjson bs $bs '
  map(select(.path == "/usr/share/doc/numbers.txt")) |
  .[0].offset == $off and .[0].object_offset == 0 and .[0].length == 3 * $bs
' "$tmp/reads"
# The piece before it ends exactly where the file starts.
jq -e -s --argjson off $off '
  map(select(.offset == $off - 100)) | .[0].length == 100 and .[0].path != "/usr/share/doc/numbers.txt"
' "$tmp/reads"

# A write through the default copy-on-write overlay is traced and the
# image is unchanged.
sum=$(md5sum < "$tmp/disk.img")
bmaplog -m "$tmp/disk.bmap" "$tmp/disk.img" -U - --no-log --trace "$tmp/w.tsv" \
    --trace-format tsv --run "nbdsh -u \"\$uri\" -c 'h.pwrite(b\"x\" * 4096, $off)' -c 'assert h.pread(4096, $off) == b\"x\" * 4096'"
test "$(md5sum < "$tmp/disk.img")" = "$sum"
awk -F'\t' -v off=$off '$3 == "write" && $5 == off && $9 == "/usr/share/doc/numbers.txt" && $11 == 0 { found = 1 } END { exit !found }' "$tmp/w.tsv"

# A failed request (past the end) is traced once, with its error, and
# is not cut into pieces.
size=$(stat -c %s "$tmp/disk.img")
cat > "$tmp/bad.py" <<PY
h.set_strict_mode(0)    # let libnbd send it: the server must refuse it
try:
    h.pread(1048576, $size - 4096)
except nbd.Error:
    pass
PY
bmaplog -m "$tmp/disk.bmap" "$tmp/disk.img" -U - --no-log --trace "$tmp/bad.jsonl" \
    --run "nbdsh -u \"\$uri\" -c \"exec(open('$tmp/bad.py').read())\""
jq -e -s --argjson off $((size - 4096)) '
  map(select(.op == "read" and .offset == $off)) |
  length == 1 and .[0].length == 1048576 and .[0].error == 22
' "$tmp/bad.jsonl"

# A trace that cannot be written is an error, reported at exit.
expect_fail bmaplog -m "$tmp/disk.bmap" "$tmp/disk.img" -U - --no-log \
    --trace /dev/full --run "nbdsh -u \"\$uri\" -c 'h.pread(4096, 0)'" 2>"$tmp/err"
grep -q 'trace: No space left on device' "$tmp/err"

# A map is input too: a kind that is not one of ours (here a quote and
# a backslash, or a control character) is traced as '?', and the trace
# stays valid JSON.
cp "$tmp/disk.bmap" "$tmp/odd.bmap"
sqlite3 "$tmp/odd.bmap" "UPDATE objects SET kind = '\"\\' WHERE path = '/usr/share/doc/numbers.txt';
                         UPDATE objects SET kind = char(1) WHERE kind = 'v'"
bmaplog -m "$tmp/odd.bmap" "$tmp/disk.img" -U - --no-log \
    --trace "$tmp/odd.jsonl" --run "nbdsh -u \"\$uri\" -c 'h.pread($bs, $off)'"
jq -e -s --argjson off $off '
  map(select(.op == "read" and .offset == $off)) | length == 1 and .[0].kind == "?"
' "$tmp/odd.jsonl"
virt-bmap query "$tmp/odd.bmap" $off > "$tmp/odd.query"
cat "$tmp/odd.query"
awk -F'\t' '{ print $3 }' "$tmp/odd.query" | sort | tr '\n' ' ' | grep_q -x '? ? p '
