#!/usr/bin/env bash
# bmaplog report --diff on two real boots: the second image's init also
# reads /unread/never-read.txt, and its trace is TSV.  The files read in
# only one boot, and the read volumes that changed, against jq; the TSV
# trace's report against the oracle; the diff's HTML tables.
source ./functions.sh
set -x
requires qemu-system-x86_64 --version
requires jq --version
requires sqlite3 --version
requires python3 --version
requires debugfs -V
requires test -r "/boot/vmlinuz-$(ls /lib/modules | sort -V | tail -1)"
requires busybox --help

"$srcdir/make-boot-image" "$tmp"
cd "$tmp"
boot ()
{
    timeout 600 bmaplog -m "$1.bmap" "$1.img" -U - --no-log --trace "$2" "${@:3}" \
        --run 'qemu-system-x86_64 -m 512 -nographic -no-reboot -kernel vmlinuz \
               -initrd initrd.img -append "console=ttyS0 quiet panic=-1" \
               -drive file=$nbd,format=raw,if=virtio' > console.txt 2>&1 ||
        { cat console.txt; fail "boot through bmaplog failed"; }
    grep -q "VBM-BOOT-OK $(cat payload.md5)" console.txt
}

# The "update": the init reads one more file.
cp disk.img new.img
cat > vbm-init <<'SCRIPT'
cat /mnt/etc/hostname > /dev/null
cat /mnt/data/numbers.txt > /dev/null
cat /mnt/unread/never-read.txt > /dev/null
echo "written by the guest" > /mnt/data/written.txt
sync
echo "VBM-BOOT-OK $(md5sum /mnt/data/payload.bin | cut -d' ' -f1)"
SCRIPT
debugfs -w -f - "new.img?offset=$((2048 * 512))" > debugfs.out 2>&1 <<'CMDS'
rm /sbin/vbm-init
write vbm-init /sbin/vbm-init
CMDS
debugfs -R "cat /sbin/vbm-init" "new.img?offset=$((2048 * 512))" 2>/dev/null |
    cmp - vbm-init
virt-bmap -q -o disk.bmap disk.img
virt-bmap -q -o new.bmap new.img
boot disk a.jsonl
boot new b.tsv --trace-format tsv

# The TSV trace: header comments, then its report against the oracle.
grep -q '^#bmaplog_trace	1$' b.tsv
grep -q "^#image	0	$PWD/new.img	raw	" b.tsv
bmaplog report b.tsv --no-checksum --json b.json > b.txt
"$srcdir/report-oracle" b.tsv new.bmap > expected.tsv
jq -r '.objects[] | [.kind // "-", .device // "-", .path // "-", .inode,
       .first_ns, .reads, .bytes_read, .distinct_bytes_read, .writes,
       .bytes_written] | @tsv' b.json > got.tsv
diff -u expected.tsv got.tsv
grep -q ' /dev/sda1 /unread/never-read.txt$' b.txt

bmaplog report --diff a.jsonl b.tsv --top 0 --json diff.json -o diff.html > diff.txt

# Files and directories read in only one boot: sets from the traces.
reads ()
{
    "$srcdir/report-oracle" "$1" "$2" |
        awk -F'\t' '($1 == "f" || $1 == "d") && $6 > 0 { print $2 " " $3 "\t" $7 }' |
        sort
}
reads a.jsonl disk.bmap > a.reads
reads b.tsv new.bmap > b.reads
join -t $'\t' -v1 a.reads b.reads | cut -f1 > only-a.expected
join -t $'\t' -v2 a.reads b.reads | cut -f1 > only-b.expected
jq -r '.only_in_a[] | "\(.device) \(.path)"' diff.json | sort > only-a.got
jq -r '.only_in_b[] | "\(.device) \(.path)"' diff.json | sort > only-b.got
diff -u only-a.expected only-a.got
diff -u only-b.expected only-b.got
grep -qx '/dev/sda1 /unread/never-read.txt' only-b.got
grep -qx '/dev/sda1 /unread' only-b.got

# Read volumes that changed, largest change first.
join -t $'\t' a.reads b.reads | awk -F'\t' '$2 != $3 {
    d = $3 - $2; print (d < 0 ? -d : d) "\t" $1 "\t" $2 "\t" $3 }' |
    sort -t $'\t' -k1,1nr -k2,2 | cut -f2- > changed.expected
jq -r '.changed[] | "\(.device) \(.path)\t\(.a_bytes_read)\t\(.b_bytes_read)"' \
    diff.json > changed.got
diff -u changed.expected changed.got
test "$(jq .unchanged diff.json)" = \
     "$(join -t $'\t' a.reads b.reads | awk -F'\t' '$2 == $3' | wc -l)"

# The text says the same.
grep -q '^Read only in B (2)' diff.txt
grep -q ' /dev/sda1 /unread/never-read.txt$' diff.txt

# The diff's HTML: self-contained, a row per entry, a bar per change
# (test-report-boot.sh renders a report in Chromium).
if grep -Eio 'https?://|<script|src=|@import|url\(' diff.html; then
    fail "the HTML refers to something outside itself"
fi
python3 - diff.html diff.json <<'PY'
import json, sys
from html.parser import HTMLParser
d = json.load(open(sys.argv[2]))
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.table = None; self.rows = {}; self.bars = 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table": self.table = a.get("id")
        if tag == "tr" and self.table: self.rows[self.table] = self.rows.get(self.table, 0) + 1
        if tag == "rect" and a.get("class") == "bar": self.bars += 1
p = P(); p.feed(open(sys.argv[1]).read())
for t, n in (("only-a-table", len(d["only_in_a"])), ("only-b-table", len(d["only_in_b"])),
             ("changed-table", len(d["changed"]))):
    assert p.rows.get(t, 0) == n + 1, (t, p.rows.get(t), n)
assert p.bars == min(15, len(d["changed"])), p.bars
PY
