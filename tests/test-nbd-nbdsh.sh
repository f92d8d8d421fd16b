#!/usr/bin/env bash
# nbdsh (python3-libnbd) on a --cow export: pread/pwrite, a pipeline
# of asynchronous reads, structured replies, block status against the
# file's own SEEK_DATA/SEEK_HOLE, a second connection seeing the
# writes; the image itself never changes.
source ./functions.sh
set -x
# nbdsh runs "python3 -m nbd": the system python has the module.
export PATH="$top_builddir/nbdserver:/usr/bin:$PATH"
requires nbdsh --version

img=$tmp/disk.img
truncate -s 16M $img
dd if=/dev/urandom of=$img bs=1M count=4 conv=notrunc status=none
dd if=/dev/urandom of=$img bs=64K count=2 seek=200 conv=notrunc status=none
sum=$(md5sum < $img)
export img

cat > $tmp/check.py <<'PY'
import os
img = os.environ["img"]
with open(img, "rb") as f:
    orig = bytearray(f.read())
size = len(orig)

assert h.get_size() == size
assert h.get_structured_replies_negotiated()
assert h.can_meta_context("base:allocation")
assert not h.is_read_only()
assert h.can_multi_conn() and h.can_flush() and h.can_fua()
assert h.can_trim() and h.can_zero() and h.can_cache() and h.can_df()

# Reads, writes across block boundaries, read back.
assert h.pread(4096, 12345) == orig[12345:12345 + 4096]
data = b"\xab" * 10000
h.pwrite(data, 4000, nbd.CMD_FLAG_FUA)
orig[4000:14000] = data
assert h.pread(10000, 4000) == data
assert h.pread(100, 3950) == orig[3950:4050]
h.pwrite(b"end!", size - 4)
orig[size - 4:] = b"end!"
assert h.pread(8, size - 8) == orig[size - 8:]

# 64 reads in flight at once; every one completes with the right data.
cmds = []
for i in range(64):
    buf = nbd.Buffer(8192)
    off = i * 200003
    cmds.append((h.aio_pread(buf, off), buf, off))
assert h.aio_in_flight() > 0
while h.aio_in_flight() > 0:
    h.poll(-1)
for cookie, buf, off in cmds:
    assert h.aio_command_completed(cookie)
    assert buf.to_bytearray() == orig[off:off + 8192], off

# Structured read with DF: one data chunk covering the request.
chunks = []
def chunk(subbuf, offset, status, err):
    chunks.append((offset, len(subbuf), status))
    return 0
h.pread_structured(65536, 1048576, chunk, nbd.CMD_FLAG_DF)
assert chunks == [(1048576, 65536, nbd.READ_DATA)], chunks

# Zero, trim, cache, flush.
h.zero(8192, 65536 + 100)
orig[65536 + 100:65536 + 100 + 8192] = bytes(8192)
assert h.pread(8292, 65536 + 50) == orig[65536 + 50:65536 + 50 + 8292]
h.trim(4096, 8 * 1048576)
h.cache(65536, 0)
h.flush()

# Block status of the untouched part, against the file itself.
fd = os.open(img, os.O_RDONLY)
def file_extents(start, end):
    out, pos = [], start
    while pos < end:
        try:
            data = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:
            data = end
        if data > pos:
            out.append((pos, min(data, end) - pos, 3))
            pos = min(data, end)
            continue
        hole = min(os.lseek(fd, pos, os.SEEK_HOLE), end)
        out.append((pos, hole - pos, 0))
        pos = hole
    return out
got = []
def extent(metacontext, offset, entries, err):
    assert metacontext == "base:allocation"
    pos = offset
    for i in range(0, len(entries), 2):
        got.append((pos, entries[i], entries[i + 1]))
        pos += entries[i]
    return 0
start, end = 9 * 1048576, 16 * 1048576 - 1048576
h.block_status(end - start, start, extent)
assert got and got[0][0] == start
assert sum(e[1] for e in got) <= end - start
fe = file_extents(start, start + sum(e[1] for e in got))
def merged(l):
    out = []
    for s, n, t in l:
        if out and out[-1][2] == t:
            out[-1] = (out[-1][0], out[-1][1] + n, t)
        else:
            out.append((s, n, t))
    return out
assert merged(got) == merged(fe), (got, fe)

# Written blocks are data, whatever the image had there.
got.clear()
h.block_status(4096, 8192, extent, nbd.CMD_FLAG_REQ_ONE)
assert got == [(8192, 4096, 0)], got

# A second connection sees this one's writes (CAN_MULTI_CONN).
h2 = nbd.NBD()
h2.connect_uri(os.environ["uri"])
assert h2.pread(10000, 4000) == orig[4000:14000]
assert h2.pread(4, size - 4) == b"end!"
h2.shutdown()
print("all checks passed")
PY

timeout 120 virt-bmap-nbd --cow -U - $img \
    --run 'nbdsh --base-allocation -u "$uri" -c "exec(open(\"'$tmp/check.py'\").read())"' \
    > $tmp/out
cat $tmp/out
grep 'all checks passed' $tmp/out
test "$(md5sum < $img)" = "$sum"

# Read-only by default (the server's EPERM is in test-nbd-hostile).
timeout 60 virt-bmap-nbd -U - $img \
    --run 'nbdsh -u "$uri" -c "assert h.is_read_only()"'
