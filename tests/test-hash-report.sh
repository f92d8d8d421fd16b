#!/usr/bin/env bash
# bmaplog report over a map built with --hash shows each file read
# with its hash from the map (text, JSON, HTML), the hashes being
# those of the files written (sha256sum); over a map without hashes the
# report has no hash field.
source ./functions.sh
set -x
set -o pipefail
requires jq --version
requires sqlite3 --version

cd "$tmp"
mkdir -p root/dir
echo hello > root/a.txt
seq 1 10000 > root/dir/b.txt
truncate -s 16M disk.img
$MKFS_EXT4 -b 4096 -d root disk.img
virt-bmap -q --hash md5,sha256 -o disk.bmap disk.img
virt-bmap -q -o plain.bmap disk.img

# trace MAP: a header naming MAP, reads of both files.
trace ()
{
    sqlite3 -json "$1" "SELECT o.kind, o.device, o.path, o.inode, e.start,
        e.end, e.offset FROM objects o JOIN extents e ON e.object = o.id
        WHERE o.kind = 'f' ORDER BY e.start" > extents.json
    jq -n -c --slurpfile x extents.json --arg map "$PWD/$1" \
        --arg img "$PWD/disk.img" --argjson size "$(stat -c %s disk.img)" '
      def ext(f): first($x[0][] | select(f));
      def rec(t; e): {t_ns: t, conn: 1, op: "read", disk: 0,
          offset: e.start, length: 4096, kind: e.kind, device: e.device,
          path: e.path, inode: e.inode, error: 0, object_offset: e.offset};
      {bmaplog_trace: 1, version: "test", start: "2024-01-01T00:00:00.000000Z",
       mode: "cow", map: {path: $map},
       images: [{disk: 0, path: $img, format: "raw", size: $size, mtime: null}]},
      rec(1000; ext(.path == "/a.txt")), rec(2000; ext(.path == "/dir/b.txt"))
    '
}

trace disk.bmap > trace.jsonl
bmaplog report trace.jsonl --top 0 --json report.json -o report.html > report.txt
a=$(sha256sum < root/a.txt | cut -d' ' -f1)
b=$(sha256sum < root/dir/b.txt | cut -d' ' -f1)
jq -e --arg a "sha256:$a" --arg b "sha256:$b" \
    '[.objects[] | [.path, .hash]] == [["/a.txt", $a], ["/dir/b.txt", $b]]' report.json
grep -q "/dev/sda /a.txt  \[sha256:$a\]" report.txt
grep -q "/dev/sda /dir/b.txt  \[sha256:$b\]" report.txt
grep -q "sha256:$b" report.html

# Without hashes: the report as before.
trace plain.bmap > plain.jsonl
bmaplog report plain.jsonl --top 0 --json plain.json -o plain.html > plain.txt
jq -e '[.objects[] | has("hash")] == [false, false]' plain.json
if grep -q 'sha256:' plain.txt plain.html; then fail 'hashes from a map without any'; fi
