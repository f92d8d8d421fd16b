#!/usr/bin/env bash
# bmaplog report on the trace of a real boot: the trace's provenance
# header; every number of the report (per object, per kind, requests,
# writes, flagged reads) against a recomputation from the trace with jq
# and sqlite3 (report-oracle); the text summary; the image's SHA-256
# against sha256sum; the HTML rendered by headless Chromium: the
# timeline, its legend and axes, the bar chart and the tables in the DOM,
# colours on the screenshot, nothing fetched from anywhere.
source ./functions.sh
set -x
requires qemu-system-x86_64 --version
requires jq --version
requires sqlite3 --version
requires python3 --version
requires chromium --version
requires test -r "/boot/vmlinuz-$(ls /lib/modules | sort -V | tail -1)"
requires busybox --help
requires sfdisk --version

"$srcdir/make-boot-image" "$tmp"
virt-bmap -q -o "$tmp/disk.bmap" "$tmp/disk.img"
cd "$tmp"
timeout 600 bmaplog -m disk.bmap disk.img -U - --no-log --trace trace.jsonl \
    --run 'qemu-system-x86_64 -m 512 -nographic -no-reboot -kernel vmlinuz \
           -initrd initrd.img -append "console=ttyS0 quiet panic=-1" \
           -drive file=$nbd,format=raw,if=virtio' > console.txt 2>&1 ||
    { cat console.txt; fail "boot through bmaplog failed"; }
grep -q "VBM-BOOT-OK $(cat payload.md5)" console.txt

# The header: provenance of the run, before any record.
head -1 trace.jsonl | jq -e --arg img "$PWD/disk.img" --arg map "$PWD/disk.bmap" \
    --argjson size "$(stat -c %s disk.img)" --argjson mtime "$(stat -c %Y disk.img)" '
    .bmaplog_trace == 1 and .mode == "cow" and (.start | test("^[0-9]{4}-.*Z$"))
    and .map.path == $map and .images == [{disk: 0, path: $img, format: "raw",
    size: $size, mtime: $mtime}]'
test "$(head -1 trace.jsonl | jq -r .map.created)" = \
     "$(sqlite3 disk.bmap "SELECT value FROM meta WHERE key = 'created'")"

# The map comes from the header: no -m.
bmaplog report trace.jsonl --top 0 -o report.html --json report.json > report.txt

# Every object: the report against the oracle.
"$srcdir/report-oracle" trace.jsonl disk.bmap > expected.tsv
jq -r '.objects[] | [.kind // "-", .device // "-", .path // "-", .inode,
       .first_ns, .reads, .bytes_read, .distinct_bytes_read, .writes,
       .bytes_written] | @tsv' report.json > got.tsv
diff -u expected.tsv got.tsv
# The files the init read, fully (coverage 100%), and nothing else.
jq -r '.objects[] | select(.kind == "f" and .reads > 0) | .path' report.json |
    sort > read.txt
sort expected | diff -u - read.txt
test "$(jq '[.objects[] | select(.kind == "f" and .reads > 0) |
             .coverage_pct] | unique' report.json)" = "$(jq -n '[100]')"

# Totals per kind and per operation, straight from the records.
jq -s -c '.[1:] | map(select(.op == "read" and .error == 0)) |
    group_by(.kind) | map({kind: .[0].kind, bytes: (map(.length) | add)})' \
    trace.jsonl > kinds-expected.json
jq -c '[.by_kind[] | select(.bytes_read > 0) | {kind: ({"file": "f",
    "directory": "d", "metadata": "m", "free space": "u", "unmapped": null,
    "partition or disk": "p"}[.kind]), bytes: .bytes_read}] | sort_by(.kind)' \
    report.json > kinds-got.json
diff -u kinds-expected.json kinds-got.json
for op in read write flush; do
    test "$(jq -s --arg op $op '.[1:] | map(select(.op == $op) | [.t_ns, .conn])
            | unique | length' trace.jsonl)" = \
         "$(jq --arg op $op '.requests.by_op[$op].requests' report.json)"
done

# Every write, in order.
jq -c -s '.[1:] | map(select(.op == "write" or .op == "zero" or .op == "trim")
    | [.t_ns, .op, .offset, .length, .path, .object_offset])' trace.jsonl > w1
jq -c '[.writes[] | [.t_ns, .op, .offset, .length, .path, .object_offset]]' \
    report.json > w2
diff -u w1 w2
test "$(jq '.writes | length' report.json)" -gt 0

# Flagged: exactly the objects read in free space or outside any
# filesystem object (this image has no deleted files).
jq -r -s '.[1:] | map(select(.op == "read" and
    (.kind == "u" or .kind == null or .kind == "p" or .kind == "v"))) |
    map("\(.device) \(.path)") | unique | .[]' trace.jsonl > flagged-expected
jq -r '.flagged | map("\(.device) \(.path)") | sort | .[]' report.json \
    > flagged-got
diff -u flagged-expected flagged-got

# The partitions the timeline marks, against sfdisk.
sfdisk --json disk.img | jq -c '[.partitiontable.partitions[] |
    {device: ("/dev/sda" + (.node | ltrimstr("disk.img"))),
     start: (.start * 512), "end": ((.start + .size) * 512)}]' > parts.expected
jq -c '[.partitions[] | {device: .device, start: .start, end: .["end"]}]' report.json > parts.got
diff -u parts.expected parts.got

# Provenance: the checksum of the image, the map's creation time.
test "$(jq -r '.provenance.images[0].sha256' report.json)" = \
     "$(sha256sum < disk.img | cut -d' ' -f1)"
test "$(jq .provenance.trace.bytes report.json)" = "$(stat -c %s trace.jsonl)"
test "$(jq -r .provenance.trace.path report.json)" = "$PWD/trace.jsonl"
test "$(jq -r .provenance.map.created report.json)" = \
     "$(head -1 trace.jsonl | jq -r .map.created)"

# The text summary says the same.
grep -q "sha256 $(sha256sum < disk.img | cut -d' ' -f1)" report.txt
line="$(grep ' /dev/sda1 /data/payload.bin$' report.txt)"
set -- $line
test "$4 $5 $6 $7 $8" = "$(jq -r '.objects[] | select(.path == "/data/payload.bin")
    | "\(.reads) \(.bytes_read) \(.distinct_bytes_read) \(.size) 100.0%"' report.json)"
grep -Eq "^  read +$(jq .requests.by_op.read.requests report.json) +0 +$(jq \
    .requests.by_op.read.bytes report.json)\$" report.txt

# JSON on standard output instead of the text.
bmaplog report trace.jsonl --no-checksum --json - | jq -e '.objects | length > 0'

# The HTML: self-contained, and what Chromium makes of it.
if grep -Eio 'https?://|<script|src=|@import|url\(' report.html; then
    fail "the HTML refers to something outside itself"
fi
chrome="chromium --headless --no-sandbox --disable-gpu --hide-scrollbars"
timeout 120 $chrome --dump-dom "file://$PWD/report.html" > dom.html 2>chromium.log ||
    { cat chromium.log; fail "chromium --dump-dom failed"; }
timeout 120 $chrome --window-size=1200,1400 --screenshot="$PWD/shot.png" \
    "file://$PWD/report.html" 2>>chromium.log ||
    { cat chromium.log; fail "chromium --screenshot failed"; }
"$srcdir/report-check-html" dom.html report.json shot.png
