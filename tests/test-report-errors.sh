#!/usr/bin/env bash
# bmaplog report on malformed and truncated traces: each one is refused
# with a clear message (naming the line where there is one), a non-zero
# exit status, no crash and no sanitizer report; and the command line's
# own mistakes.
source ./functions.sh
set -x
requires jq --version
# The trace of set -x on its own descriptor: 2> captures only messages.
exec 5>&2
BASH_XTRACEFD=5

cd "$tmp"
mkdir root
seq 1 1000 > root/a.txt
truncate -s 8M disk.img
$MKFS_EXT4 -b 4096 -d root disk.img
virt-bmap -q -o disk.bmap disk.img
off=$(virt-bmap query disk.bmap --path /dev/sda:/a.txt | cut -f2)
good='{"t_ns":1,"conn":1,"op":"read","disk":0,"offset":'$off',"length":4096,"kind":"f","device":"/dev/sda","path":"/a.txt","inode":12,"object_offset":0,"error":0}'
{
    echo '{"bmaplog_trace":1,"version":"test","map":{"path":"'$PWD/disk.bmap'"}}'
    for i in 1 2 3; do echo "$good"; done
} > good.jsonl
bmaplog report good.jsonl -q
printf '#bmaplog_trace\t1\n1\t1\tread\t0\t%s\t4096\tf\t/dev/sda\t/a.txt\t12\t0\t0\n' \
    $off > good.tsv
bmaplog report good.tsv -m disk.bmap -q

# refuse TRACE MESSAGE [OPTIONS]: the report fails, saying MESSAGE.
refuse ()
{
    local trace="$1" msg="$2"
    shift 2
    expect_fail bmaplog report "$trace" -m disk.bmap -q "$@" 2> err.txt
    cat err.txt
    grep -q -- "$msg" err.txt || fail "$trace: expected '$msg'"
    test "$(wc -l < err.txt)" -le 3
}
variant ()   # variant NAME LINE: good.jsonl with its third line replaced
{
    { head -2 good.jsonl; printf '%s\n' "$2"; tail -n +4 good.jsonl; } > "$1"
}

: > empty
refuse empty 'empty: not a bmaplog trace'
{ printf '\x01\x02\0\xff'; head -c 4096 /dev/urandom; } > garbage
refuse garbage 'line 1: NUL byte: not a text trace'
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR' > png
refuse png 'line 1: not a bmaplog trace'
printf 'hello\n' > words
refuse words 'line 1: not a bmaplog trace'
head -c -20 good.jsonl > truncated.jsonl
refuse truncated.jsonl 'line 4: truncated'
head -c -20 good.tsv > truncated.tsv
refuse truncated.tsv 'line 2: truncated'

variant unterminated.jsonl '{"t_ns":1,"conn":1,"op":"read","path":"/a.t'
refuse unterminated.jsonl 'line 3: column .*: unterminated string'
variant comma.jsonl '{"t_ns":1,,"conn":1}'
refuse comma.jsonl 'line 3: column 11: expected a key'
variant junk.jsonl "$good x"
refuse junk.jsonl 'line 3: .*junk after the record'
variant array.jsonl '[1,2,3]'
refuse array.jsonl 'line 3: .*must be a JSON object'
variant missing.jsonl "${good/\"length\":4096,/}"
refuse missing.jsonl 'line 3: not a bmaplog trace record (it needs'
variant string.jsonl "${good/\"offset\":$off/\"offset\":\"$off\"}"
refuse string.jsonl 'line 3: "offset": not an integer'
variant negative.jsonl "${good/\"length\":4096/\"length\":-4096}"
refuse negative.jsonl 'line 3: "length": not an integer'
variant float.jsonl "${good/\"t_ns\":1,/\"t_ns\":1.5,}"
refuse float.jsonl 'line 3: "t_ns": not an integer'
variant huge.jsonl "${good/\"t_ns\":1,/\"t_ns\":123456789012345678901234567890,}"
refuse huge.jsonl 'line 3: "t_ns": not an integer'
variant op.jsonl "${good/\"read\"/\"erase\"}"
refuse op.jsonl 'line 3: "op": not an operation'
variant kind.jsonl "${good/\"kind\":\"f\"/\"kind\":\"file\"}"
refuse kind.jsonl 'line 3: "kind": not one of'
variant escape.jsonl "${good/\/a.txt/\/a\\q.txt}"
refuse escape.jsonl 'line 3: .*bad escape'
variant nul.jsonl "${good/\/a.txt/\/a\\u0000.txt}"
refuse nul.jsonl 'line 3: .*NUL character'
variant surrogate.jsonl "${good/\/a.txt/\/a\\ud800.txt}"
refuse surrogate.jsonl 'line 3: .*unpaired surrogate'
variant deep.jsonl '{"a":{"b":{"c":{"d":{"e":1}}}}}'
refuse deep.jsonl 'line 3: .*nested too deeply'
variant disk.jsonl "${good/\"disk\":0/\"disk\":5}"
refuse disk.jsonl 'line 3: disk 5: the map has 1 disk'
variant overflow.jsonl "${good/\"offset\":$off/\"offset\":9223372036854775807}"
refuse overflow.jsonl 'line 3: offset .* is beyond any disk'
variant header2.jsonl '{"bmaplog_trace":1,"version":"x"}'
refuse header2.jsonl 'line 3: a second trace header'
sed '1s/"bmaplog_trace":1/"bmaplog_trace":2/' good.jsonl > version.jsonl
refuse version.jsonl 'line 1: trace format version 2'
{ head -2 good.jsonl; printf '%s\0%s\n' "$good" "$good"; } > nul-byte.jsonl
refuse nul-byte.jsonl 'line 3: NUL byte'
{ head -2 good.jsonl; head -c 2000000 /dev/zero | tr '\0' ' '; echo; } > long.jsonl
refuse long.jsonl 'line 3: line longer than'
{ head -2 good.jsonl; sed -n 2p good.tsv; } > mixed.jsonl
refuse mixed.jsonl 'line 3: .*must be a JSON object'

printf '#bmaplog_trace\t1\n1\t1\tread\t0\t0\t4096\tf\t/dev/sda\n' > fields.tsv
refuse fields.tsv 'line 2: fewer fields, a TSV trace record has 12 or 13'
sed '2s/^1\t/x\t/' good.tsv > number.tsv
refuse number.tsv "line 2: t_ns: 'x' is not an integer"
sed '2s/\/a.txt/\/a\\q.txt/' good.tsv > escape.tsv
refuse escape.tsv 'line 2: path: bad escape'
sed '2s/\tread\t/\terase\t/' good.tsv > op.tsv
refuse op.tsv "line 2: op: 'erase' is not an operation"
printf '#bmaplog_trace\t7\n' > version.tsv
refuse version.tsv 'line 1: trace format version 7'

# The same in the second trace of a diff.
expect_fail bmaplog report --diff good.jsonl truncated.jsonl 2> err.txt
grep -q 'truncated.jsonl: line 4: truncated' err.txt

# Files, map, options.
expect_fail bmaplog report missing.trace 2> err.txt
grep -q 'missing.trace: No such file or directory' err.txt
expect_fail bmaplog report good.jsonl -m nowhere.bmap 2> err.txt
grep -q 'nowhere.bmap' err.txt
sed "1s|$PWD/disk.bmap|$PWD/gone.bmap|" good.jsonl > gone.jsonl
expect_fail bmaplog report gone.jsonl 2> err.txt
grep -q 'gone.bmap: the trace.s map: No such file' err.txt
expect_fail bmaplog report good.jsonl -m good.jsonl 2> err.txt
expect_fail bmaplog report good.jsonl --top x 2> err.txt
grep -q -- '--top: not a number' err.txt
expect_fail bmaplog report 2> err.txt
expect_fail bmaplog report --diff good.jsonl 2> err.txt
grep -q 'compares two traces' err.txt
expect_fail bmaplog report good.jsonl -o /nonexistent/dir/r.html 2> err.txt
grep -q '/nonexistent/dir/r.html: No such file' err.txt
# Reports are written beside their name and renamed into place: a
# second run replaces the first whole, and nothing else is left.
mkdir out
bmaplog report good.jsonl -q -o out/r.html --json out/r.json
echo stale > out/r.html
bmaplog report good.jsonl -q -o out/r.html --json out/r.json
bmaplog report --diff good.jsonl good.jsonl -q -o out/d.html --json out/d.json
test "$(ls out | tr '\n' ' ')" = "d.html d.json r.html r.json "
grep -q '</html>' out/r.html
grep -q '</html>' out/d.html
jq -e . out/r.json out/d.json > /dev/null
bmaplog report --help | grep_q -- '--diff'
bmaplog --help | grep_q 'bmaplog report'
