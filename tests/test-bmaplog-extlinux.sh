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
source "$srcdir/extlinux-functions.sh"

extlinux_disk
virt-bmap -q -o disk.bmap disk.img
boot_extlinux disk.img
check_files_read

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

check_kernel_pieces
grep -qx 'read f /dev/sda1 /boot/vmlinuz' log.txt
