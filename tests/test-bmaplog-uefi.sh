#!/usr/bin/env bash
# A UEFI boot traced from the firmware to init: a GPT disk whose EFI
# system partition (FAT32, made by mkfs.vfat and mtools) holds
# systemd-boot as EFI/BOOT/BOOTX64.EFI, loader/loader.conf, an entry,
# the host's kernel and a small initramfs whose init prints a marker
# and powers off.  OVMF (pflash, q35, TCG) boots it through bmaplog in
# captive mode.  The trace names BOOTX64.EFI, the entry, the kernel and
# the initramfs in that order; each traced piece of them holds the
# file's bytes at its offset in the file; the image is unchanged; the
# report lists the ESP's files.
source ./functions.sh
set -x
requires qemu-system-x86_64 --version
requires jq --version
requires test -r /usr/share/OVMF/OVMF_CODE.fd
requires test -r /usr/lib/systemd/boot/efi/systemd-bootx64.efi
requires test -r "/boot/vmlinuz-$(ls /lib/modules | sort -V | tail -1)"
requires mkfs.vfat --help
requires mcopy --version
requires busybox --help
export MTOOLS_SKIP_CHECK=1

cd $tmp
mkdir -p esp/EFI/BOOT esp/loader/entries ird/bin ird/proc
cp /usr/lib/systemd/boot/efi/systemd-bootx64.efi esp/EFI/BOOT/BOOTX64.EFI
printf 'timeout 0\ndefault vbm.conf\n' > esp/loader/loader.conf
printf 'title VBM\nlinux /vmlinuz\ninitrd /initrd.img\noptions console=ttyS0 quiet panic=-1\n' \
    > esp/loader/entries/vbm.conf
cp "/boot/vmlinuz-$(ls /lib/modules | sort -V | tail -1)" esp/vmlinuz
busybox=$(command -v busybox)
file -L $busybox | grep_q 'statically linked' || fail "$busybox is not static"
cp $busybox ird/bin/busybox
cat > ird/init <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo VBM-UEFI-OK
/bin/busybox poweroff -f
INIT
chmod +x ird/init
(cd ird && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) > esp/initrd.img

# The ESP: FAT32 (40 MiB of 512-byte clusters), in a GPT partition.
truncate -s 40M esp.img
mkfs.vfat -F 32 -s 1 -n ESP esp.img
# Written in boot order: the firmware's FAT driver reads ahead, and a
# read of one file's clusters may touch the start of the next one on
# disk, which must then be the next in the boot path.
mmd -i esp.img ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries
for f in EFI/BOOT/BOOTX64.EFI loader/loader.conf loader/entries/vbm.conf vmlinuz initrd.img; do
    mcopy -i esp.img esp/$f ::/$f
done
truncate -s 48M disk.img
printf 'label: gpt\nstart=2048, size=81920, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\n' |
    sfdisk -q disk.img
dd if=esp.img of=disk.img bs=1M seek=1 conv=notrunc status=none
virt-bmap -o disk.bmap disk.img 2> warnings
cat warnings
test ! -s warnings
test "$(sqlite3 disk.bmap "SELECT fstype FROM objects WHERE device = '/dev/sda1' AND kind = 'p'")" = fat32
sum=$(md5sum < disk.img)

cp /usr/share/OVMF/OVMF_VARS.fd vars.fd
timeout 1200 bmaplog -m disk.bmap disk.img -U - -o log.txt --trace trace.jsonl \
    --run 'qemu-system-x86_64 -machine q35,accel=tcg -m 512 -nographic -no-reboot \
           -drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd \
           -drive if=pflash,format=raw,unit=1,file=vars.fd \
           -drive file=$nbd,format=raw,if=virtio' > console.txt 2>&1 ||
    { cat console.txt; fail "UEFI boot through bmaplog failed"; }
grep -q VBM-UEFI-OK console.txt || { cat console.txt; fail "no marker"; }
test "$(md5sum < disk.img)" = "$sum"

# The boot path, in the order of the first read of each file.
jq -r 'select(.op == "read" and .kind == "f") | .path' trace.jsonl | awk '!seen[$0]++' > order
cat order
for f in /EFI/BOOT/BOOTX64.EFI /loader/entries/vbm.conf /vmlinuz /initrd.img; do
    grep -nx "$f" order | cut -d: -f1
done > lines
test "$(wc -l < lines)" -eq 4
sort -n -c lines

# Oracle for the offsets: each traced piece holds the file's bytes at
# that offset in the file (the files as they were written to the ESP).
for f in EFI/BOOT/BOOTX64.EFI loader/entries/vbm.conf vmlinuz initrd.img; do
    jq -r --arg p "/$f" 'select(.path == $p and .op == "read") | "\(.offset) \(.length) \(.object_offset)"' \
        trace.jsonl > pieces
    test -s pieces
    size=$(stat -c %s esp/$f)
    while read -r off len objoff; do
        [ $((objoff + len)) -le $size ] || len=$((size - objoff))
        [ $len -gt 0 ] || continue
        cmp <(dd if=disk.img iflag=skip_bytes,count_bytes skip=$off count=$len status=none) \
            <(dd if=esp/$f iflag=skip_bytes,count_bytes skip=$objoff count=$len status=none)
    done < pieces
done

# The report lists the ESP's files read, and the human log names them.
bmaplog report trace.jsonl -o report.html --json report.json
for f in /EFI/BOOT/BOOTX64.EFI /loader/entries/vbm.conf /vmlinuz /initrd.img; do
    jq -e --arg p "$f" '[.objects[] | select(.kind == "f" and .path == $p and .reads > 0)] | length == 1' report.json
    grep -qF "$f" report.html
done
grep -qx 'read f /dev/sda1 /vmlinuz' log.txt
