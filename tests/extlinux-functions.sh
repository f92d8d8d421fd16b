# Helpers of the tests that boot the EXTLINUX disk of make-boot-image
# through bmaplog (test-bmaplog-extlinux.sh, test-bmaplog-qcow2-boot.sh),
# sourced after functions.sh.

# extlinux_disk: skips the test unless the guest can be built and
# booted; builds it in $tmp (make-boot-image DIR extlinux) and goes
# there.
extlinux_disk ()
{
    requires qemu-system-x86_64 --version
    requires jq --version
    requires guestfish --version
    requires test -r /usr/lib/syslinux/mbr/mbr.bin
    requires test -r "/boot/vmlinuz-$(ls /lib/modules | sort -V | tail -1)"
    requires busybox --help
    export LIBGUESTFS_BACKEND=direct
    "$srcdir/make-boot-image" "$tmp" extlinux
    cd "$tmp"
}

# boot_extlinux IMAGE: boots IMAGE (disk.img or a copy of it in another
# format) from its own MBR, served by bmaplog with disk.bmap; the trace
# goes to trace.jsonl, the log to log.txt.  The guest must show
# SYSLINUX's banner and reach the end of its init.
boot_extlinux ()
{
    timeout 600 bmaplog -m disk.bmap "$1" -U - -o log.txt --trace trace.jsonl \
        --run 'qemu-system-x86_64 -m 512 -nographic -no-reboot -net none \
               -drive file=$nbd,format=raw,if=virtio' > console.txt 2>&1 ||
        { cat console.txt; fail "boot of $1 through bmaplog failed"; }
    grep -q "VBM-BOOT-OK $(cat payload.md5)" console.txt
    grep -q SYSLINUX console.txt
}

# check_files_read: the files the trace says were read are exactly the
# bootloader's and the init's (make-boot-image's lists).
check_files_read ()
{
    jq -r 'select(.op == "read" and .kind == "f") | .path' trace.jsonl |
        sort -u > read.txt
    sort -u expected expected-boot | diff -u - read.txt
}

# check_kernel_pieces: the oracle for the offsets.  Traced pieces of
# the kernel (one in ten, to stay quick), read from disk.img at their
# disk offset, hold the kernel's bytes at their offset in the file.
check_kernel_pieces ()
{
    local size off len objoff

    jq -r 'select(.op == "read" and .path == "/boot/vmlinuz") |
           "\(.offset) \(.length) \(.object_offset)"' trace.jsonl |
        sort -u | awk 'NR % 10 == 1' > pieces
    test -s pieces
    size=$(stat -c %s vmlinuz)
    while read -r off len objoff; do
        [ $((objoff + len)) -le $size ] || len=$((size - objoff))
        dd if=disk.img iflag=skip_bytes,count_bytes skip=$off count=$len \
           status=none > piece.disk
        dd if=vmlinuz iflag=skip_bytes,count_bytes skip=$objoff count=$len \
           status=none > piece.file
        cmp piece.disk piece.file
    done < pieces
}
