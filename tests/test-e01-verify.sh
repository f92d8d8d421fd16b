#!/usr/bin/env bash
# virt-bmap --verify on E01 sets made by ewfacquire (split, deflated,
# MD5 and SHA-1 stored): the sound set passes, with the MD5 and SHA-1
# of md5sum and sha1sum over the raw image; a flipped byte in a data
# chunk, a tampered stored MD5, a tampered stored SHA-1 and a set
# storing no hash fail with a clear message, no map written, as
# ewfverify (the oracle) fails or says N/A.  A damaged chunk, stored
# or deflated, fails every read of it through virt-bmap-nbd (EIO), and
# the build that reads it; a missing or truncated segment (or a first segment cut
# short) is refused when opening; an Ex01 (EWF2) is named as such; a
# raw image has no hash to verify.  virt-bmap-nbd, bmaplog and
# inspect-nbd --verify serve the sound set (nbdcopy gives the raw
# image) and refuse the others before serving anything.
source ./functions.sh
set -x
set -o pipefail
requires ewfacquire -V
requires ewfverify -V
requires ewfinfo -V
requires python3 --version
requires nbdcopy --version
requires nbdsh --version
cd "$tmp"

# Random data (stored in chunks as is, so a byte of the image can be
# found in the segments) and zeros (deflated).
head -c 5M /dev/urandom > raw.img
head -c 3M /dev/zero >> raw.img
ewfacquire -u -q -t good -S 1M -c deflate:fast -d sha1 raw.img > acquire.log
test -f good.E03
md5=$(md5sum < raw.img | cut -d' ' -f1)
sha1=$(sha1sum < raw.img | cut -d' ' -f1)
last=$(ls good.E0* | tail -n 1)
last=${last#good.}

# set NAME: a copy of the set, as NAME.E01 ...
set_copy ()
{
    local f
    for f in good.E0*; do cp "$f" "$1.${f#good.}"; done
}

# flip SET OFFSET: flips a bit of the image byte at OFFSET where it
# sits in the set's segments (found by the 64 bytes around it).
flip ()
{
    python3 - "$1" "$2" <<'PY'
import glob, sys
name, off = sys.argv[1], int(sys.argv[2])
raw = open('raw.img', 'rb').read()
pat = raw[off:off + 64]
for f in sorted(glob.glob(name + '.E0*')):
    d = bytearray(open(f, 'rb').read())
    i = d.find(pat)
    if i >= 0:
        assert d.find(pat, i + 1) < 0
        d[i] ^= 0x10
        open(f, 'wb').write(d)
        sys.exit(0)
sys.exit('byte %d not found in the segments' % off)
PY
}

# The sound set.
ewfverify -q -d sha1 good.E01 > ewfverify.log
ewfinfo good.E01 > info
grep "MD5:.*$md5" info
grep "SHA1:.*$sha1" info
virt-bmap --verify -o good.bmap good.E01 > out
cat out
grep -x "virt-bmap: good.E01: MD5 $md5 verified" out
grep -x "virt-bmap: good.E01: SHA-1 $sha1 verified" out
test -s good.bmap

# bad NAME MESSAGE: --verify fails with MESSAGE and writes no map, and
# ewfverify fails too.
bad ()
{
    expect_fail virt-bmap --verify -o "$1.bmap" "$1.E01" > "$1.out" 2> "$1.err"
    cat "$1.err"
    grep -- "$2" "$1.err"
    test ! -e "$1.bmap"
    expect_fail ewfverify -q -d sha1 "$1.E01" > "$1.ewfverify"
}

# A byte of the random part, 3 MiB in (the 4th segment or so).
set_copy flipped
flip flipped $((3 * 1024 * 1024 + 1000))
bad flipped "virt-bmap: verify: flipped.E01: corrupt evidence: the chunk at sectors 6144-6207 (byte 3145728) fails its checksum"

set_copy md5
"$srcdir/e01-tamper" md5.$last md5
bad md5 "virt-bmap: verify: md5.E01: MD5 mismatch: the image stores [0-9a-f]*, its media hashes to $md5"

set_copy sha1
"$srcdir/e01-tamper" sha1.$last sha1
bad sha1 "virt-bmap: verify: sha1.E01: SHA-1 mismatch: the image stores [0-9a-f]*, its media hashes to $sha1"
grep "SHA1 hash stored in file:.*[0-9a-f]\{40\}" sha1.ewfverify

# No stored hash: ewfverify has nothing to compare (N/A), we refuse.
set_copy nohash
"$srcdir/e01-tamper" nohash.$last nohash
ewfverify -q nohash.E01 > nohash.ewfverify
grep 'MD5 hash stored in file:.*N/A' nohash.ewfverify
expect_fail virt-bmap --verify -o nohash.bmap nohash.E01 2> err
grep 'nohash.E01: the image stores no MD5 or SHA-1 hash of its media: nothing to verify against' err
test ! -e nohash.bmap
# Without --verify it maps.
virt-bmap -q -o nohash.bmap nohash.E01

# Served, the damaged chunk fails every read (libewf caches it after
# the first), with EIO; the chunks beside it read as the raw image.
cat > reread.py <<PY
import errno
import nbd
bad = 3 * 1024 * 1024
for i in range(3):
    try:
        h.pread(512, bad + 512 * i)
        raise SystemExit("read %d of the damaged chunk succeeded" % i)
    except nbd.Error as e:
        assert e.errnum == errno.EIO, e
raw = open("raw.img", "rb").read()
assert h.pread(512, bad - 512) == raw[bad - 512:bad]
assert h.pread(512, bad + 32768) == raw[bad + 32768:bad + 32768 + 512]
PY
virt-bmap-nbd -U - flipped.E01 --run 'nbdsh -u "$uri" -c "exec(open(\"reread.py\").read())"' 2> err
cat err
test "$(grep -c 'flipped.E01: corrupt evidence: the chunk at sectors 6144-6207' err)" -eq 3

# A damaged chunk that mapping reads (the first: partition tables).
set_copy first
flip first 100
expect_fail virt-bmap -o first.bmap first.E01 2> err
cat err
grep 'first.E01: corrupt evidence: the chunk at sectors 0-63 (byte 0) fails its checksum' err

# A deflated chunk damaged (text compresses: the first chunk is
# deflated): mapping fails, ewfverify too, and served, every read of it
# fails the same way (libewf is not asked again: it would leak the
# chunk's buffer each time, see lsan.supp).
seq 1 400000 > text.img
truncate -s 4M text.img
ewfacquire -u -q -t text -c deflate:best text.img > text.log
test "$(stat -c %s text.E01)" -lt 1048576
"$srcdir/e01-tamper" text.E01 chunk0
expect_fail ewfverify -q text.E01 > text.ewfverify
expect_fail virt-bmap -o text.bmap text.E01 2> err
grep 'text.E01: corrupt evidence: the chunk at sectors 0-63 (byte 0) fails its checksum' err
cat > text.py <<PY
import errno
import nbd
for i in range(5):
    try:
        h.pread(4096, 4096 * i)
        raise SystemExit("read %d of the damaged chunk succeeded" % i)
    except nbd.Error as e:
        assert e.errnum == errno.EIO, e
text = open("text.img", "rb").read()
assert h.pread(4096, 32768) == text[32768:36864]
PY
virt-bmap-nbd -U - text.E01 --run 'nbdsh -u "$uri" -c "exec(open(\"text.py\").read())"' 2> err
cat err
test "$(grep -c 'text.E01: corrupt evidence: the chunk at sectors 0-63 (byte 0) fails its checksum' err)" -eq 5

# A segment missing in the middle, or at the end; one truncated.
set_copy mid
rm mid.E02
expect_fail virt-bmap -o mid.bmap mid.E01 2> err
grep 'mid.E01: incomplete or damaged set of segment files: 1 found, the last mid.E01' err
set_copy end
rm end.$last
expect_fail virt-bmap -o end.bmap end.E01 2> err
grep 'end.E01: incomplete or damaged set of segment files' err
set_copy cut
truncate -s 100000 cut.E03
expect_fail virt-bmap -o cut.bmap cut.E01 2> err
cat err
grep 'cut.E01: ' err
# A FIFO among the segments is refused, not waited on.
set_copy fifo
rm fifo.E02
mkfifo fifo.E02
expect_fail timeout 60 virt-bmap -o fifo.bmap fifo.E01 2> err
grep 'fifo.E01: segment fifo.E02: not a regular file' err
test ! -e mid.bmap && test ! -e end.bmap && test ! -e cut.bmap &&
    test ! -e fifo.bmap

# The first segment cut inside its header sections.
head -c 100 good.E01 > short.E01
expect_fail virt-bmap -o short.bmap short.E01 2> err
cat err
grep 'short.E01: opening the segment files: .*libewf_handle_open: ' err

# Ex01 (EWF2): ewfacquire 20140813 cannot write one and libewf cannot
# read one; the signature alone names it.
printf 'EVF2\r\n\201\0' > new.Ex01
head -c 4096 /dev/zero >> new.Ex01
expect_fail virt-bmap -o new.bmap new.Ex01 2> err
grep 'new.Ex01: an EnCase 7 Ex01 (EWF2) image: the installed libewf reads only E01 (EWF1) images' err

# A raw image stores no hash.
expect_fail virt-bmap --verify -o raw.bmap raw.img 2> err
grep 'raw.img: a raw image stores no acquisition hash to verify (E01 images do)' err
test ! -e raw.bmap

# The servers: the sound set served after its check, the others
# refused before the command runs.
virt-bmap-nbd --verify -U - good.E01 --run 'nbdcopy "$uri" nbd.copy' 2> err
cat err
grep -x "virt-bmap-nbd: good.E01: MD5 $md5 verified" err
grep -x "virt-bmap-nbd: good.E01: SHA-1 $sha1 verified" err
cmp nbd.copy raw.img
bmaplog --verify -m good.bmap good.E01 -U - --no-log \
    --run 'nbdcopy "$uri" bmaplog.copy' 2> err
grep -x "bmaplog: good.E01: MD5 $md5 verified" err
cmp bmaplog.copy raw.img
inspect-nbd --verify good.E01 --run 'nbdcopy "$uri" inspect.copy' 2> err
grep "inspect-nbd: good.E01: SHA-1 $sha1 verified" err
cmp inspect.copy raw.img
for set in flipped md5 sha1 nohash; do
    expect_fail virt-bmap-nbd --verify -U - $set.E01 --run 'touch ran' 2> err
    cat err
    grep "^virt-bmap-nbd: verify: $set.E01: " err
    expect_fail bmaplog --verify -m good.bmap $set.E01 -U - --no-log \
        --run 'touch ran' 2> err
    grep "^bmaplog: verify: $set.E01: " err
    expect_fail inspect-nbd --verify $set.E01 --run 'touch ran' 2> err
    grep "inspect-nbd: verify: $set.E01: " err
    test ! -e ran
done

# The sound set is unchanged by all of this.
ewfverify -q -d sha1 good.E01 > /dev/null
