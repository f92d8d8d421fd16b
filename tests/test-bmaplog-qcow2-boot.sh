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
source "$srcdir/extlinux-functions.sh"
requires qemu-img --version
requires qemu-nbd --version

extlinux_disk
qemu-img convert -f raw -O qcow2 disk.img disk.qcow2
test "$(stat -c %s disk.qcow2)" -lt "$(stat -c %s disk.img)"
virt-bmap -q -o disk.bmap disk.qcow2
sum=$(sha256sum < disk.qcow2)
boot_extlinux disk.qcow2
test "$(sha256sum < disk.qcow2)" = "$sum"
check_files_read
# Offsets are the virtual disk's.
check_kernel_pieces
