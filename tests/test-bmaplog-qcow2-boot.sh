#!/usr/bin/env bash
# A boot traced end to end from a qcow2: the EXTLINUX disk of
# test-bmaplog-extlinux.sh, converted to qcow2, mapped and served as
# it is (through the library's qcow2 source and the overlay).  The
# guest boots; the files read are exactly those of the raw boot (the
# bootloader's and the init's, per make-boot-image); traced pieces of
# the kernel hold the kernel's bytes at the virtual disk's offsets;
# the qcow2 is unchanged.
source ./functions.sh
set -x
set -o pipefail
requires qemu-system-x86_64 --version
requires qemu-img --version
requires qemu-nbd --version
requires jq --version
requires guestfish --version
requires test -r /usr/lib/syslinux/mbr/mbr.bin
requires test -r "/boot/vmlinuz-$(ls /lib/modules | sort -V | tail -1)"
requires busybox --help
export LIBGUESTFS_BACKEND=direct

"$srcdir/make-boot-image" "$tmp" extlinux
cd "$tmp"
qemu-img convert -f raw -O qcow2 disk.img disk.qcow2
test "$(stat -c %s disk.qcow2)" -lt "$(stat -c %s disk.img)"
virt-bmap -q -o disk.bmap disk.qcow2
sum=$(sha256sum < disk.qcow2)

timeout 600 bmaplog -m disk.bmap disk.qcow2 -U - -o log.txt --trace trace.jsonl \
    --run 'qemu-system-x86_64 -m 512 -nographic -no-reboot -net none \
           -drive file=$nbd,format=raw,if=virtio' > console.txt 2>&1 ||
    { cat console.txt; fail "boot from the qcow2 through bmaplog failed"; }
grep -q "VBM-BOOT-OK $(cat payload.md5)" console.txt
grep -q SYSLINUX console.txt
test "$(sha256sum < disk.qcow2)" = "$sum"

# The files read: the bootloader's and the init's, nothing else.
jq -r 'select(.op == "read" and .kind == "f") | .path' trace.jsonl |
    sort -u > read.txt
sort -u expected expected-boot | diff -u - read.txt

# Offsets are the virtual disk's: pieces of the kernel (one in ten)
# hold the kernel's bytes, read from the raw image.
jq -r 'select(.op == "read" and .path == "/boot/vmlinuz") |
       "\(.offset) \(.length) \(.object_offset)"' trace.jsonl |
    sort -u | awk 'NR % 10 == 1' > pieces
test -s pieces
size=$(stat -c %s vmlinuz)
while read -r off len objoff; do
    [ $((objoff + len)) -le $size ] || len=$((size - objoff))
    dd if=disk.img iflag=skip_bytes,count_bytes skip=$off count=$len status=none > piece.disk
    dd if=vmlinuz iflag=skip_bytes,count_bytes skip=$objoff count=$len status=none > piece.file
    cmp piece.disk piece.file
done < pieces
