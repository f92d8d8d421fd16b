#!/usr/bin/env bash
# The map stores each disk's identity and bmaplog serves a disk only
# if it is the mapped one: a map made from a qcow2 serves the qcow2,
# its raw conversion and an nbd+unix:// export of the same bytes; a
# map of another image of the same size (another build of the same
# layout: a different MBR disk signature) is refused, and so is the
# same image changed in its first MiB.  The oracle for the stored
# identity is the documented formula computed by Python's hashlib
# over the raw image.  A map without identity (made before it
# existed) still serves, after a note.  The check reads little: the
# remote's reads are counted in nbdkit's log filter's log.
source ./functions.sh
set -x
set -o pipefail
requires qemu-img --version
requires nbdkit --version
requires nbdsh --version
requires sqlite3 --version
requires python3 --version
requires sfdisk --version

cd "$tmp"
"$srcdir/make-sample-image" disk.img
"$srcdir/make-sample-image" other.img
size=$(stat -c %s disk.img)
test "$(stat -c %s other.img)" -eq "$size"
if cmp -s disk.img other.img; then fail 'two builds are equal'; fi
qemu-img convert -f raw -O qcow2 disk.img disk.qcow2

# The identity, as virtbmap.h and bmaplog(1) define it.
cat > ident.py <<'EOF'
import hashlib, struct, sys
f = open(sys.argv[1], 'rb')
f.seek(0, 2)
size = f.tell()
h = hashlib.sha256(struct.pack('<Q', size))
head = min(size, 1 << 20)
f.seek(0)
h.update(f.read(head))
if size > head:
    f.seek(size - head)
    h.update(f.read(head))
for i in range(1, 17):
    off = min(size // 17 * i // 4096 * 4096, size - 4096)
    f.seek(off)
    h.update(f.read(4096))
print('id1:sha256:' + h.hexdigest())
EOF
virt-bmap -q -o disk.bmap disk.qcow2
stored=$(sqlite3 disk.bmap "SELECT value FROM meta WHERE key = 'identity.0'")
test "$stored" = "$(python3 ident.py disk.img)"
test "$stored" != "$(python3 ident.py other.img)"

nbdkit -U "$tmp/sock" -P "$tmp/nbdkit.pid" --filter=log file disk.img \
       logfile="$tmp/remote.log"
cleanup_fn 'kill $(cat "$tmp/nbdkit.pid")'
uri="nbd+unix:///?socket=$tmp/sock"

# The same virtual disk, three ways: served, and its bytes read back.
head -c 4096 disk.img > expect.bin
for src in disk.qcow2 disk.img "$uri"; do
    rm -f got.bin
    bmaplog -m disk.bmap "$src" -U - --no-log \
            --run 'nbdsh -u "$uri" -c "open(\"got.bin\", \"wb\").write(h.pread(4096, 0))"' \
            2> err
    cat err
    if grep_q 'note:' err; then fail "a note for $src"; fi
    cmp got.bin expect.bin
done

# What the identity check cost the remote (bmaplog --run true: no
# client): at most its 2 MiB and 16 blocks of 4 KiB.
: > remote.log
bmaplog -m disk.bmap "$uri" -U - --no-log --run true
cat remote.log
python3 - remote.log > read.bytes <<'EOF'
import re, sys
print(sum(int(m.group(1), 16) for m in
          re.finditer(r' Read id=\d+ offset=0x[0-9a-f]+ count=0x([0-9a-f]+)',
                      open(sys.argv[1]).read())))
EOF
cat read.bytes
test "$(cat read.bytes)" -gt 0
test "$(cat read.bytes)" -le $((2 * 1024 * 1024 + 16 * 4096))

# Another image of the same size is refused, both identities named;
# nothing is served (the client never runs).
expect_fail bmaplog -m disk.bmap other.img -U - --no-log \
            --run 'touch ran' 2> err
cat err
test ! -e ran
grep_q 'does not belong to other.img: the map was made for disk.qcow2, a disk of the same size' err
grep_q "identity $stored, this disk's is $(python3 ident.py other.img)" err

# The mapped image changed in its first MiB (the MBR's disk
# signature): refused too.
cp disk.img changed.img
printf '\x5a' | dd of=changed.img bs=1 seek=440 conv=notrunc status=none
expect_fail bmaplog -m disk.bmap changed.img -U - --no-log --run true 2> err
grep_q 'does not belong to changed.img' err

# A map made before identities: served on its size alone, with a note.
cp disk.bmap old.bmap
sqlite3 old.bmap "DELETE FROM meta WHERE key = 'identity.0'"
bmaplog -m old.bmap other.img -U - --no-log --run true 2> err
cat err
grep_q 'note: old.bmap stores no identity of disk 0 (made by an older virt-bmap): only its size was checked' err
# ... and still refuses another size.
qemu-img create -q -f qcow2 small.qcow2 32M
expect_fail bmaplog -m old.bmap small.qcow2 -U - --no-log --run true 2> err
grep_q 'this image has 33554432 bytes' err
