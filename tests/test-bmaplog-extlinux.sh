#!/usr/bin/env bash
# A real bootloader through bmaplog: the disk boots with EXTLINUX
# (installed by the libguestfs appliance) and the syslinux MBR, which
# read the kernel and the initramfs from the filesystem.  The trace
# names exactly the files the bootloader and the init read, the
# bootloader read the kernel and initramfs whole, before the init ran,
# and every traced piece of the kernel holds the kernel's bytes at
# that offset.
source ./functions.sh
set -x
requires qemu-system-x86_64 --version
requires jq --version
requires guestfish --version
requires test -r /usr/lib/syslinux/mbr/mbr.bin
requires test -r "/boot/vmlinuz-$(ls /lib/modules | sort -V | tail -1)"
requires busybox --help
export LIBGUESTFS_BACKEND=direct

"$srcdir/make-boot-image" "$tmp" extlinux
virt-bmap -q -o "$tmp/disk.bmap" "$tmp/disk.img"

cd "$tmp"
timeout 600 bmaplog -m disk.bmap disk.img -U - -o log.txt --trace trace.jsonl \
    --run 'qemu-system-x86_64 -m 512 -nographic -no-reboot -net none \
           -drive file=$nbd,format=raw,if=virtio' > console.txt 2>&1 ||
    { cat console.txt; fail "boot through bmaplog failed"; }
grep -q "VBM-BOOT-OK $(cat payload.md5)" console.txt
grep -q SYSLINUX console.txt

# The files read: the bootloader's and the init's, nothing else.
jq -r 'select(.op == "read" and .kind == "f") | .path' trace.jsonl |
    sort -u > read.txt
sort -u expected expected-boot | diff -u - read.txt

# The MBR's boot code was read from the partition table's sector.
jq -e -s 'map(select(.op == "read" and .offset == 0 and .kind == "m" and
                     .device == "/dev/sda")) | length > 0' trace.jsonl

# The kernel and the initramfs were read whole, before the init's
# script was.
for f in vmlinuz initrd.img; do
    jq -e -s --arg p /boot/$f --argjson size $(stat -c %s $f) '
      (map(select(.op == "read" and .path == "/sbin/vbm-init")) | map(.t_ns) | min) as $init |
      map(select(.op == "read" and .path == $p)) |
      (map(.t_ns) | max) < $init and
      (sort_by(.object_offset) |
       reduce .[] as $r (0; if $r.object_offset <= . then
                               ([., $r.object_offset + $r.length] | max) else . end)) >= $size
    ' trace.jsonl
done

# Oracle for the offsets: traced pieces of the kernel (one in ten, to
# stay quick) hold the kernel's bytes at their offset in the file.
jq -r 'select(.op == "read" and .path == "/boot/vmlinuz") |
       "\(.offset) \(.length) \(.object_offset)"' trace.jsonl |
    sort -u | awk 'NR % 10 == 1' > pieces
test -s pieces
size=$(stat -c %s vmlinuz)
while read -r off len objoff; do
    [ $((objoff + len)) -le $size ] || len=$((size - objoff))
    cmp <(dd if=disk.img iflag=skip_bytes,count_bytes skip=$off count=$len status=none) \
        <(dd if=vmlinuz iflag=skip_bytes,count_bytes skip=$objoff count=$len status=none)
done < pieces

grep -qx 'read f /dev/sda1 /boot/vmlinuz' log.txt
