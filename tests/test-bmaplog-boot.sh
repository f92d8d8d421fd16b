#!/usr/bin/env bash
# A real boot through bmaplog: qemu boots a small guest from the NBD
# export, the init reads and writes a few files; the trace names
# exactly the files it read, the guest's write is traced, and the
# image is unchanged (copy-on-write by default).
source ./functions.sh
set -x
requires qemu-system-x86_64 --version
requires jq --version
requires test -r "/boot/vmlinuz-$(ls /lib/modules | sort -V | tail -1)"
requires busybox --help

"$srcdir/make-boot-image" "$tmp"
virt-bmap -q -o "$tmp/disk.bmap" "$tmp/disk.img"
sum=$(md5sum < "$tmp/disk.img")

cd "$tmp"
timeout 600 bmaplog -m disk.bmap disk.img -U - -o log.txt --trace trace.jsonl \
    --run 'qemu-system-x86_64 -m 512 -nographic -no-reboot -kernel vmlinuz \
           -initrd initrd.img -append "console=ttyS0 quiet panic=-1" \
           -drive file=$nbd,format=raw,if=virtio' > console.txt 2>&1 ||
    { cat console.txt; fail "boot through bmaplog failed"; }

grep -q "VBM-BOOT-OK $(cat payload.md5)" console.txt
test "$(md5sum < disk.img)" = "$sum"

# Files read, according to the trace, are exactly those the init read.
jq -r 'select(.op == "read" and .kind == "f") | .path' trace.jsonl |
    sort -u > read.txt
sort expected | diff -u - read.txt

# The guest's writes are traced too (the journal, the new file's data).
jq -e -s 'map(select(.op == "write")) | length > 0' trace.jsonl

# Oracle for the offsets: each traced piece of payload.bin holds the
# file's bytes at that offset inside the file.
debugfs -R "cat /data/payload.bin" "disk.img?offset=$((2048 * 512))" \
    > payload 2>/dev/null
jq -r 'select(.path == "/data/payload.bin") | "\(.offset) \(.length) \(.object_offset)"' \
    trace.jsonl > pieces
test -s pieces
while read -r off len objoff; do
    size=$(stat -c %s payload)
    [ $((objoff + len)) -le $size ] || len=$((size - objoff))
    cmp <(dd if=disk.img iflag=skip_bytes,count_bytes skip=$off count=$len status=none) \
        <(dd if=payload iflag=skip_bytes,count_bytes skip=$objoff count=$len status=none)
done < pieces

# The human log groups requests under headings that name the object.
grep -qx 'read f /dev/sda1 /data/payload.bin' log.txt
grep -qx 'read f /dev/sda1 /etc/hostname' log.txt
