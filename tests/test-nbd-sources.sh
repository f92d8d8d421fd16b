#!/usr/bin/env bash
# virt-bmap-nbd serves the virtual disk of a qcow2, of an xz (one
# block of 1 MiB, and one single block streamed) and of an E01 split
# into segments by ewfacquire: nbdcopy of the
# export equals the raw image, from one and several connections;
# read-only by default; --cow writes land in the overlay and the image
# is unchanged (sha256); --rw is refused for a non-raw image.  Block
# status gives the qcow2's holes as qemu-img map does; an xz and an
# E01 are all data.
source ./functions.sh
set -x
set -o pipefail
requires qemu-img --version
requires qemu-nbd --version
requires nbdcopy --version
requires nbdsh --version
requires nbdinfo --version
requires xz --version
requires ewfacquire -V

cd "$tmp"
# Random data, a long hole and a tail: offsets would show if mixed.
truncate -s 24M disk.img
dd if=/dev/urandom of=disk.img bs=1M count=6 conv=notrunc status=none
dd if=/dev/urandom of=disk.img bs=1M count=3 seek=17 conv=notrunc status=none
printf 'tail' | dd of=disk.img bs=1 seek=$((24 * 1024 * 1024 - 4)) conv=notrunc status=none
qemu-img convert -f raw -O qcow2 disk.img disk.qcow2
xz -T1 -k -c --block-size=1MiB disk.img > disk.img.xz
xz -T1 -k -c disk.img > single.xz
ewfacquire -u -q -t disk -S 1M -c deflate:fast disk.img > acquire.log
test -f disk.E03

# sum_of IMAGE: the checksum of its files (all the segments of an E01).
sum_of () {
    case "$1" in
        *.E01) cat "${1%.E01}".E[0-9][0-9] | sha256sum ;;
        *) sha256sum < "$1" ;;
    esac
}

# Data ranges, adjacent ones merged, from qemu-img map (the oracle)
# and from nbdinfo --map (ours).
merge='reduce .[] as $r ([]; if length > 0 and .[-1][1] == $r[0]
                            then .[-1][1] = $r[1] else . + [$r] end)'
data_of_map () {
    jq -c "[.[] | select(.type % 2 == 0) | [.offset, .offset + .length]] | $merge" "$1"
}
qemu-img map -f qcow2 --output=json disk.qcow2 > qemu.map
jq -c "[.[] | select(.data) | [.start, .start + .length]] | $merge" qemu.map > qemu.data
cat qemu.data
# Not all data, not all holes: the check can fail.
test "$(jq length qemu.data)" -ge 2

for src in disk.qcow2 disk.img.xz disk.E01; do
    sum=$(sum_of $src)
    fmt=${src##*.}
    fmt=${fmt,,}
    virt-bmap-nbd -v -U - $src --run 'nbdcopy "$uri" '$src.copy1 2> err
    cat err
    cmp $src.copy1 disk.img
    grep "$src: format $fmt, $(stat -c %s disk.img) bytes" err
    virt-bmap-nbd -U - $src \
        --run 'nbdcopy --connections=4 --request-size=65536 "$uri" '$src.copy2
    cmp $src.copy2 disk.img

    # Read-only unless asked.
    virt-bmap-nbd -U - $src --run 'nbdinfo --can write "$uri" && exit 9; exit 0'

    virt-bmap-nbd -U - $src --run 'nbdinfo --map --json "$uri"' > $src.map
    cat $src.map
    data_of_map $src.map > $src.data
    case $src in
        *.qcow2) cmp $src.data qemu.data ;;
        *) test "$(cat $src.data)" = "[[0,$(stat -c %s disk.img)]]" ;;
    esac

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
               nbdcopy \"\$uri\" $src.cow &&
               nbdinfo --map --json \"\$uri\" > $src.cowmap"
    test "$(sum_of $src)" = "$sum"
    cp disk.img expect.img
    printf 'a%.0s' $(seq 5000) | dd of=expect.img bs=1 seek=4095 conv=notrunc status=none
    printf 'b%.0s' $(seq 4096) | dd of=expect.img bs=1 seek=$((10 * 1024 * 1024)) conv=notrunc status=none
    printf 'ccc' | dd of=expect.img bs=1 seek=$((24 * 1024 * 1024 - 3)) conv=notrunc status=none
    cmp $src.cow expect.img
    # What was written is data, even over the qcow2's hole.
    jq -e '[.[] | select(.offset <= 10485760 and .offset + .length >= 10489856)]
           | length == 1 and .[0].type == 0' $src.cowmap

    expect_fail virt-bmap-nbd --rw -U - $src --run 'exit 0' 2> err
    cat err
    grep "$src: format $fmt: only raw images can be written in place" err
    test "$(sum_of $src)" = "$sum"
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
