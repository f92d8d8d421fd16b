#!/usr/bin/env bash
# bmaplog report on hand-made traces over a real map: reads of free
# space, of an area beyond the map, of a deleted and of an unreachable
# file are flagged; coverage merges overlapping reads and says when it
# is approximate (over 32 separate ranges); a TSV trace says the same as
# its JSON twin; a trace without a header needs -m; hostile file names
# (markup, terminal escapes, a direction override, tab, newline) are
# escaped in every output.
source ./functions.sh
set -x
requires jq --version
requires sqlite3 --version
requires debugfs -V
requires python3 --version

cd "$tmp"
mkdir -p root/dir
echo hello > root/a.txt
seq 1 10000 > root/b.txt
seq 1 5000 > root/dir/c.txt
seq 1 3000 > root/dir/d.txt
hostile=('<b onmouseover=alert(1)>x' $'esc\e[31mred' $'gpj\xe2\x80\xae.exe'
         $'tab\there' $'new\nline' 'a&b"c')
for n in "${hostile[@]}"; do echo hostile > "root/$n"; done
truncate -s 16M disk.img
$MKFS_EXT4 -b 4096 -d root disk.img
# c.txt: unlinked but in use (unreachable); d.txt: an orphan (deleted).
debugfs -w -f - disk.img > debugfs.out 2>&1 <<'CMDS'
unlink /dir/c.txt
sif /dir/d.txt links_count 0
unlink /dir/d.txt
CMDS
virt-bmap -q -o disk.bmap disk.img
sqlite3 -json disk.bmap "SELECT o.kind, o.device, o.path, o.inode, o.flags,
    e.start, e.end, e.offset FROM objects o JOIN extents e ON e.object = o.id
    WHERE e.end > e.start ORDER BY e.start" > extents.json
jq -e 'map(select(.flags == 9)) | length == 1' extents.json   # deleted
jq -e 'map(select(.flags == 1)) | length == 1' extents.json   # unreachable

# The trace: a header naming the map, then reads and a write.
jq -n -c --slurpfile x extents.json --arg map "$PWD/disk.bmap" \
    --arg img "$PWD/disk.img" --argjson size "$(stat -c %s disk.img)" '
  def ext(f): first($x[0][] | select(f));
  def rec(t; op; e; off; len): {t_ns: t, conn: 1, op: op, disk: 0,
      offset: (e.start + off), length: len, kind: e.kind, device: e.device,
      path: e.path, inode: e.inode, error: 0,
      object_offset: (if e.offset == null then null else e.offset + off end)};
  {bmaplog_trace: 1, version: "test", start: "2024-01-01T00:00:00.000000Z",
   mode: "cow", map: {path: $map},
   images: [{disk: 0, path: $img, format: "raw", size: $size, mtime: null}]},
  rec(1000; "read"; ext(.path == "/a.txt"); 0; 4096),
  rec(2000; "read"; ext(.path == "/a.txt"); 0; 4096),
  rec(3000; "read"; ext(.flags == 1); 0; 4096),
  rec(4000; "read"; ext(.flags == 9); 0; 4096),
  rec(5000; "read"; ext(.path == "<free space>"); 4096; 8192),
  {t_ns: 6000, conn: 2, op: "read", disk: 0, offset: 16777216, length: 512,
   kind: null, device: null, path: null, inode: 0, object_offset: null,
   error: 0},
  (range(40) as $i | rec(7000 + $i; "read"; ext(.path == "/b.txt"); $i * 100; 10)),
  rec(8000; "read"; ext(.path == "/b.txt"); 0; 4096),
  rec(8000; "read"; ext(.path == "/b.txt"); 4096; 4096),
  rec(9000; "write"; ext(.path == "<free space>"); 0; 4096),
  {t_ns: 9500, conn: 1, op: "flush", disk: 0, offset: 0, length: 0, kind: null,
   device: null, path: null, inode: 0, object_offset: null, error: 0},
  ([$x[0][] | select(.kind == "f" and (.path | test("^/(<|esc|gpj|tab|new|a&)")))]
   | to_entries[] | rec(10000 + .key; "read"; .value; 0; 4096))
' > trace.jsonl

bmaplog report trace.jsonl --top 0 --json report.json -o report.html > report.txt

# Flagged: exactly the four suspicious reads, with their reasons.
jq -e -c '[.flagged[] | [.path // "-", .flags]] == [
    ["<unreachable inode \(.flagged[0].inode)>", ["unreachable"]],
    ["<orphan inode \(.flagged[1].inode)>", ["deleted", "unreachable"]],
    ["<free space>", ["free_space"]], ["-", ["unmapped"]]]' report.json
jq -e '.flagged[2].ranges == [[.flagged[2].ranges[0][0],
       .flagged[2].ranges[0][0] + 8192]] and .flagged[2].ranges_in == "disk"' report.json
grep -q 'deleted, unreachable: /dev/sda <orphan inode' report.txt

# Coverage: overlapping reads count once, clipped to the size.
jq -e '.objects[] | select(.path == "/a.txt") | .reads == 2 and
       .bytes_read == 8192 and .distinct_bytes_read == 6 and
       .coverage_pct == 100 and (.coverage_approximate | not)' report.json
# 40 separate 10-byte ranges, then a request cut in two pieces (one read).
size=$(stat -c %s root/b.txt)
jq -e --argjson size $size '.objects[] | select(.path == "/b.txt") |
       .reads == 41 and .bytes_read == 400 + 8192 and .coverage_approximate
       and .distinct_bytes_read >= 8192 and .distinct_bytes_read <= $size' report.json
grep -Eq ' ~[0-9.]+% .* /dev/sda /b.txt$' report.txt
jq -e '.requests.by_op.read.requests == 2 + 2 + 1 + 1 + 40 + 1 + 6 and
       .requests.by_op.flush.requests == 1 and (.writes | length) == 1' report.json

# Hostile names: the JSON keeps the bytes, the text and HTML escape them.
for n in "${hostile[@]}"; do
    jq -e --arg n "/$n" '[.objects[] | select(.path == $n)] | length == 1' report.json
done
if grep -q $'\e' report.txt; then fail "raw escape character in the text"; fi
grep -qF '/dev/sda /esc\x1b[31mred' report.txt
grep -qF '/dev/sda /tab\there' report.txt
grep -qF '/dev/sda /new\nline' report.txt
if grep -q $'\xe2\x80\xae' report.html; then fail "raw direction override in the HTML"; fi
grep -qF 'gpj<span class="esc">\u202e</span>.exe' report.html
grep -qF '&lt;b onmouseover=alert(1)&gt;x' report.html
grep -qF 'a&amp;b&quot;c' report.html
"$srcdir/report-check-html" report.html report.json

# The same trace as TSV (names escaped as bmaplog does) says the same.
jq -r 'if has("bmaplog_trace") then "#bmaplog_trace\t1\n#map\t\(.map.path)\t-\t-"
       else [.t_ns, .conn, .op, .disk, .offset, .length, .kind // "-",
             .device // "-", (.path // "-" | gsub("\\\\"; "\\\\") |
             gsub("\t"; "\\t") | gsub("\n"; "\\n") | gsub("\u001b"; "\\x1b")),
             .inode, .object_offset // "-", .error] | map(tostring) | join("\t")
       end' trace.jsonl > trace.tsv
bmaplog report trace.tsv --json report-tsv.json -q
diff <(jq .objects report.json) <(jq .objects report-tsv.json)
diff <(jq .flagged report.json) <(jq .flagged report-tsv.json)

# Without the header, the trace names no map: -m is needed.
tail -n +2 trace.jsonl > noheader.jsonl
expect_fail bmaplog report noheader.jsonl 2> err.txt
grep -q 'names no map' err.txt
bmaplog report noheader.jsonl -m disk.bmap --json noheader.json > noheader.txt
grep -q 'the trace has no header' noheader.txt
jq -e '.provenance.trace.header == false' noheader.json
diff <(jq .objects report.json) <(jq .objects noheader.json)
test "$(jq -r .provenance.images[0].sha256 report.json)" = \
     "$(sha256sum < disk.img | cut -d' ' -f1)"
bmaplog report trace.jsonl --no-checksum --json - |
    jq -e '.provenance.images[0] | .sha256 == null and (.note | test("no-checksum"))'

# A trace made with another map: a warning, and the objects it lacks.
mkdir -p other/root
echo other > other/root/other.txt
truncate -s 16M other/disk.img
$MKFS_EXT4 -b 4096 -d other/root other/disk.img
virt-bmap -q -o other/disk.bmap other/disk.img
bmaplog report trace.jsonl -m other/disk.bmap --json other.json -q 2> warn.txt
grep -q "warning: .* traced object(s) are not in $PWD/other/disk.bmap" warn.txt
jq -e '.objects[] | select(.path == "/a.txt") | .flags == ["not_in_map"] and
       .size == null and .coverage_pct == null' other.json
