#!/usr/bin/env bash
# inspect-nbd --run serves the image (xz, qcow2) on a private socket to
# real NBD clients; bad images fail before anything runs.
source ./functions.sh
set -x
requires nbdcopy --version
requires nbdinfo --version
requires xz --version
requires qemu-img --version

"$srcdir/make-sample-image" "$tmp/disk.img"
xz -T1 --block-size=1MiB -c "$tmp/disk.img" > "$tmp/disk.img.xz"
qemu-img convert -f raw -O qcow2 "$tmp/disk.img" "$tmp/disk.qcow2"

cd "$tmp"
for img in disk.img.xz disk.qcow2; do
    rm -f size copy.img
    inspect-nbd "$img" --run '
        test -S "$unixsocket"
        case "$uri" in nbd+unix:*) ;; *) exit 9;; esac
        nbdinfo --size "$uri" > size
        nbdcopy "$uri" copy.img'
    test "$(cat size)" -eq "$(stat -c %s disk.img)"
    cmp copy.img disk.img
done

# The command's exit status is ours; the export is read-only.
r=0; inspect-nbd "$tmp/disk.img.xz" --run 'exit 7' || r=$?
test $r -eq 7
inspect-nbd "$tmp/disk.img.xz" --run 'nbdinfo --json "$uri"' > "$tmp/info"
grep '"is_read_only": true' "$tmp/info"

# Single-block xz bigger than the cache, not an image: clear errors.
xz -T1 -c "$tmp/disk.img" > "$tmp/single.xz"
VIRT_BMAP_XZ_CACHE=16M expect_fail inspect-nbd "$tmp/single.xz" --run true 2> "$tmp/err"
grep -- '--block-size=16MiB' "$tmp/err"
expect_fail inspect-nbd --format xz "$tmp/disk.img" 2> "$tmp/err"
grep 'not an xz file' "$tmp/err"
expect_fail inspect-nbd 2> "$tmp/err"
expect_fail inspect-nbd "$tmp/disk.img" "$tmp/disk.img" 2> "$tmp/err"
