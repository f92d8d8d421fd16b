#!/usr/bin/env bash
# bmaplog serves what virt-bmap maps: a qcow2, a multi-block xz, an
# nbd+unix:// URI and an E01 split into segments by ewfacquire.  For
# each: the whole export equals the raw image (nbdcopy + cmp), a read
# of a file is traced at the offsets debugfs gives, with the file's own
# bytes, and a write goes to the overlay (the source is unchanged,
# sha256 before and after); block status gives the holes qemu-img map
# (qcow2) and nbdkit (the URI) give, and all data for the xz and the
# E01.  The identity check compares the virtual size, not the
# container's.  The report checksums a container's file and says so
# (for an E01, its first segment, pointing to --verify).
source ./functions.sh
set -x
set -o pipefail
requires qemu-img --version
requires qemu-nbd --version
requires nbdkit --version
requires nbdsh --version
requires nbdcopy --version
requires nbdinfo --version
requires xz --version
requires jq --version
requires debugfs -V
requires sfdisk --version
requires ewfacquire -V

cd "$tmp"
"$srcdir/make-sample-image" disk.img
qemu-img convert -f raw -O qcow2 disk.img disk.qcow2
xz -T1 -k -c --block-size=1MiB disk.img > disk.img.xz
# Empty chunks deflated, the others as they are: 3 segments.
ewfacquire -u -q -t disk -S 1M -c empty-block disk.img > acquire.log
test -f disk.E03
# The containers are smaller than the disk: the size check must look
# at the virtual disk.
test "$(stat -c %s disk.qcow2)" -lt "$(stat -c %s disk.img)"
test "$(stat -c %s disk.img.xz)" -lt "$(stat -c %s disk.img)"

# A writable export of a copy: a write that went through to the
# remote would show in its checksum.
cp disk.img remote.img
nbdkit -U "$tmp/sock" -P "$tmp/nbdkit.pid" file remote.img
cleanup_fn 'kill $(cat "$tmp/nbdkit.pid")'
uri="nbd+unix:///?socket=$tmp/sock"

# The oracle: where numbers.txt starts (debugfs) and its bytes.
part=$((2048 * 512))
bs=$(dumpe2fs -h "disk.img?offset=$part" 2>/dev/null | awk '/^Block size:/ { print $3 }')
blk=$(debugfs -R "bmap /usr/share/doc/numbers.txt 0" "disk.img?offset=$part" 2>/dev/null)
off=$((part + blk * bs))
debugfs -R "dump /usr/share/doc/numbers.txt numbers.txt" "disk.img?offset=$part"
head -c $((3 * bs)) numbers.txt > expect.bin
test "$(stat -c %s expect.bin)" -eq $((3 * bs))

# Data ranges, adjacent ones merged: from nbdinfo --map --json, and
# from qemu-img map for the qcow2 (the oracles).
merge='reduce .[] as $r ([]; if length > 0 and .[-1][1] == $r[0]
                            then .[-1][1] = $r[1] else . + [$r] end)'
data_of_map () {
    jq -c "[.[] | select(.type % 2 == 0) | [.offset, .offset + .length]] | $merge" "$1"
}
qemu-img map -f qcow2 --output=json disk.qcow2 |
    jq -c "[.[] | select(.data) | [.start, .start + .length]] | $merge" > 1.oracle
nbdinfo --map --json "$uri" > remote.map
data_of_map remote.map > 3.oracle
cat 1.oracle 3.oracle
test "$(jq length 1.oracle)" -ge 2
test "$(jq length 3.oracle)" -ge 2
echo "[[0,$(stat -c %s disk.img)]]" > 2.oracle
cp 2.oracle 4.oracle

i=0
for src in disk.qcow2 disk.img.xz "$uri" disk.E01; do
    i=$((i + 1))
    case "$src" in
        nbd*) file=remote.img ;;
        *.E01) file="disk.E[0-9][0-9]" ;;
        *) file="$src" ;;
    esac
    sum=$(cat $file | sha256sum)
    virt-bmap -q -o "$i.bmap" "$src"

    # The whole disk, through the source.
    bmaplog -m "$i.bmap" "$src" -U - --no-log \
            --run 'nbdcopy "$uri" '"$i.copy"
    cmp "$i.copy" disk.img

    # Block status, through the overlay (nothing written yet).
    bmaplog -m "$i.bmap" "$src" -U - --no-log \
            --run 'nbdinfo --map --json "$uri"' > "$i.map"
    data_of_map "$i.map" > "$i.data"
    cmp "$i.data" "$i.oracle"

    # 3 blocks of numbers.txt, from 100 bytes before it; then a write
    # over them, read back through the overlay.
    cat > "$i.py" <<PY
buf = h.pread($((3 * bs + 100)), $((off - 100)))
open("$i.read", "wb").write(buf[100:])
h.pwrite(b"x" * 4096, $off)
assert h.pread(4096, $off) == b"x" * 4096
assert h.pread(100, $((off - 100))) == buf[:100]
PY
    bmaplog -m "$i.bmap" "$src" -U - --no-log --trace "$i.jsonl" \
            --run "nbdsh -u \"\$uri\" -c \"exec(open('$i.py').read())\""
    cmp "$i.read" expect.bin
    jq -c 'select(.op == "read" or .op == "write")' "$i.jsonl" > "$i.ops"
    cat "$i.ops"
    # Trace lines come in the order the hooks ran, not the requests:
    # the first read is the one 3 blocks long, cut where the file
    # starts, its piece before ending there.
    jq -e -s --argjson off $off --argjson bs $bs '
      map(select(.op == "read" and .length == 3 * $bs)) | length == 1 and
      .[0].offset == $off and .[0].object_offset == 0 and
      .[0].path == "/usr/share/doc/numbers.txt"
    ' "$i.ops"
    jq -e -s --argjson off $off '
      map(select(.op == "read" and .offset == $off - 100)) | length == 2 and
      all(.length == 100 and .path != "/usr/share/doc/numbers.txt")
    ' "$i.ops"
    jq -e -s --argjson off $off '
      map(select(.op == "write")) | length == 1 and .[0].offset == $off and
      .[0].path == "/usr/share/doc/numbers.txt" and .[0].object_offset == 0
    ' "$i.ops"
    test "$(cat $file | sha256sum)" = "$sum"
done

# The report checksums the qcow2 file itself (oracle: sha256sum) and
# says so; it is not refused for being smaller than its disk.
bmaplog report -m 1.bmap -q -o 1.html --json 1.report.json 1.jsonl
jq -c .provenance.images 1.report.json
jq -e --arg sum "$(sha256sum < disk.qcow2 | cut -d' ' -f1)" '
  .provenance.images[0] | .sha256 == $sum and (.note | test("qcow2 file"))
' 1.report.json

# For the E01, the first segment's checksum, said to be of that file;
# the media's hash is --verify's.
bmaplog report -m 4.bmap -q -o 4.html --json 4.report.json 4.jsonl
jq -c .provenance.images 4.report.json
jq -e --arg sum "$(sha256sum < disk.E01 | cut -d' ' -f1)" '
  .provenance.images[0] | .sha256 == $sum and
  (.note | test("first segment file.*--verify"))
' 4.report.json

# The raw image's map serves the qcow2 (same virtual disk); a qcow2 of
# another size is refused, its virtual size named.
bmaplog -m 1.bmap disk.img -U - --no-log --run 'nbdsh -u "$uri" -c "h.pread(512, 0)"'
qemu-img create -q -f qcow2 other.qcow2 32M
expect_fail bmaplog -m 1.bmap other.qcow2 -U - --no-log \
            --run 'nbdsh -u "$uri" -c "h.pread(512, 0)"' 2> err
cat err
grep 'this image has 33554432 bytes' err

# --format forces the format: the qcow2 read as raw is its container,
# another size.
expect_fail bmaplog -m 1.bmap --format raw disk.qcow2 -U - --no-log \
            --run 'nbdsh -u "$uri" -c "h.pread(512, 0)"' 2> err
grep "this image has $(stat -c %s disk.qcow2) bytes" err
