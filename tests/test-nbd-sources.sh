#!/usr/bin/env bash
# virt-bmap-nbd serves the virtual disk of a qcow2 and of an xz (one
# block of 1 MiB, and one single block streamed): nbdcopy of the
# export equals the raw image, from one and several connections;
# read-only by default; --cow writes land in the overlay and the image
# is unchanged (sha256); --rw is refused for a non-raw image.
source ./functions.sh
set -x
set -o pipefail
requires qemu-img --version
requires qemu-nbd --version
requires nbdcopy --version
requires nbdsh --version
requires nbdinfo --version
requires xz --version

cd "$tmp"
# Random data, a long hole and a tail: offsets would show if mixed.
truncate -s 24M disk.img
dd if=/dev/urandom of=disk.img bs=1M count=6 conv=notrunc status=none
dd if=/dev/urandom of=disk.img bs=1M count=3 seek=17 conv=notrunc status=none
printf 'tail' | dd of=disk.img bs=1 seek=$((24 * 1024 * 1024 - 4)) conv=notrunc status=none
qemu-img convert -f raw -O qcow2 disk.img disk.qcow2
xz -T1 -k -c --block-size=1MiB disk.img > disk.img.xz
xz -T1 -k -c disk.img > single.xz

for src in disk.qcow2 disk.img.xz; do
    sum=$(sha256sum < $src)
    virt-bmap-nbd -v -U - $src --run 'nbdcopy "$uri" '$src.copy1 2> err
    cat err
    cmp $src.copy1 disk.img
    grep "$src: format ${src##*.}, $(stat -c %s disk.img) bytes" err
    virt-bmap-nbd -U - $src \
        --run 'nbdcopy --connections=4 --request-size=65536 "$uri" '$src.copy2
    cmp $src.copy2 disk.img

    # Read-only unless asked.
    virt-bmap-nbd -U - $src --run 'nbdinfo --can write "$uri" && exit 9; exit 0'

    # --cow: writes over data, over the hole and at the very end are
    # read back; the rest still reads as the image.
    cat > $src.py <<'PY'
h.pwrite(b"a" * 5000, 4095)
h.pwrite(b"b" * 4096, 10 * 1024 * 1024)
h.pwrite(b"c" * 3, h.get_size() - 3)
assert h.pread(5000, 4095) == b"a" * 5000
assert h.pread(4096, 10 * 1024 * 1024) == b"b" * 4096
assert h.pread(4, h.get_size() - 4) == b"tccc"
PY
    virt-bmap-nbd --cow -U - $src \
        --run "nbdsh -u \"\$uri\" -c \"exec(open('$src.py').read())\" &&
               nbdcopy \"\$uri\" $src.cow"
    test "$(sha256sum < $src)" = "$sum"
    cp disk.img expect.img
    printf 'a%.0s' $(seq 5000) | dd of=expect.img bs=1 seek=4095 conv=notrunc status=none
    printf 'b%.0s' $(seq 4096) | dd of=expect.img bs=1 seek=$((10 * 1024 * 1024)) conv=notrunc status=none
    printf 'ccc' | dd of=expect.img bs=1 seek=$((24 * 1024 * 1024 - 3)) conv=notrunc status=none
    cmp $src.cow expect.img

    expect_fail virt-bmap-nbd --rw -U - $src --run 'exit 0' 2> err
    cat err
    grep "$src: format ${src##*.}: only raw images can be written in place" err
    test "$(sha256sum < $src)" = "$sum"
done

# A single xz block too big for the cache is streamed: no multi-conn,
# the same bytes.
VIRT_BMAP_XZ_CACHE=4M virt-bmap-nbd -U - single.xz \
    --run 'nbdinfo --can multi-conn "$uri" && exit 9
           nbdcopy "$uri" single.copy' 2> err
cat err
grep 'warning: single.xz is a single xz block' err
cmp single.copy disk.img

# --format forces: the qcow2 as raw is its container file.
virt-bmap-nbd --format raw -U - disk.qcow2 --run 'nbdcopy "$uri" container.copy'
cmp container.copy disk.qcow2
