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

# With a listening option of its own, --run still serves (no inspection).
inspect-nbd -U "$tmp/sock" disk.img.xz --run 'nbdinfo --size "$uri"' > size
test "$(cat size)" -eq "$(stat -c %s disk.img)"

# The command's exit status is ours; the export is read-only.
r=0; inspect-nbd "$tmp/disk.img.xz" --run 'exit 7' || r=$?
test $r -eq 7
inspect-nbd "$tmp/disk.img.xz" --run 'nbdinfo --json "$uri"' > "$tmp/info"
grep '"is_read_only": true' "$tmp/info"

# Bad images fail before the command runs, with clear errors:
# truncated xz, a corrupt index, not xz at all, qcow2 without qemu-nbd.
size=$(stat -c %s disk.img.xz)
head -c $((size / 2)) disk.img.xz > trunc.xz
expect_fail inspect-nbd trunc.xz --run 'touch ran' 2> err
grep 'trunc.xz: truncated xz file' err
cp disk.img.xz badindex.xz
printf '\x55\xaa' | dd of=badindex.xz bs=1 seek=$((size - 20)) \
                       conv=notrunc status=none
expect_fail inspect-nbd badindex.xz --run 'touch ran' 2> err
grep 'badindex.xz: corrupt xz' err
expect_fail inspect-nbd --format xz disk.img --run 'touch ran' 2> err
grep 'disk.img: not an xz file' err
mkdir bin
expect_fail env PATH="$tmp/bin" "$(command -v inspect-nbd)" disk.qcow2 \
            --run 'touch ran' 2> err
grep 'qemu-nbd.*qemu-utils' err
test ! -e ran
expect_fail inspect-nbd 2> err
expect_fail inspect-nbd disk.img disk.img 2> err
