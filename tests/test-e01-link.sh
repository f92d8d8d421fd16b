#!/usr/bin/env bash
# libtsk (FAT) links libewf, libvmdk, libvhdi and libbfio: libyal
# libraries that each export their own copy, of another version, of
# the same private helpers (libcdata_*, libcerror_*, libbfio_* ...),
# unversioned.  The first one loaded wins every such symbol, for all:
# with libvmdk or libbfio loaded before libewf, libewf runs their
# helpers on its own structures and crashes (LD_PRELOAD of either
# aborts virt-bmap on an E01: a double free in libbfio_handle_free
# from libewf_handle_close).  libvirtbmap therefore needs libewf
# itself, a level above libtsk's dependencies (libraries load breadth
# first), so that libewf is loaded first.  Checked as shipped, in the
# process that maps a FAT32 volume (libtsk) inside an E01 (libewf):
# libewf is a direct dependency, loaded before the others (ld.so's
# account, LD_DEBUG=files), and every libyal symbol libewf uses is bound (ld.so's own
# account, LD_DEBUG=bindings) to libewf itself; the map equals the raw
# image's.
source ./functions.sh
set -x
set -o pipefail
requires ewfacquire -V
requires readelf --version
requires mkfs.vfat --help
requires mcopy --version
export MTOOLS_SKIP_CHECK=1
cd "$tmp"

so=$(ls "$top_builddir"/lib/.libs/libvirtbmap.so.*.*.*)
readelf -d "$so" > dynamic
grep 'NEEDED.*\[libewf\.so\.2\]' dynamic
grep 'NEEDED.*\[libtsk\.so\.' dynamic
# libvmdk, libvhdi and libbfio come only through libtsk.
if grep 'NEEDED.*\[lib\(vmdk\|vhdi\|bfio\)\.so' dynamic; then
    fail "a second libyal library linked directly"
fi
mkdir src
head -c 1500000 /dev/urandom > src/a.bin
echo small > src/b.txt
truncate -s 40M fat.img
mkfs.vfat -F 32 -n LINKTEST fat.img
mcopy -s -i fat.img src/* ::/
ewfacquire -u -q -t fat -S 1M -c deflate:fast fat.img > acquire.log
test -f fat.E02

virt-bmap -q -o raw.bmap fat.img
LD_DEBUG=files,bindings LD_DEBUG_OUTPUT="$tmp/ld" \
    virt-bmap --verify -q -o e01.bmap fat.E01
test "$(sqlite3 e01.bmap "SELECT fstype FROM objects WHERE kind = 'v'")" = fat32
for m in raw e01; do
    sqlite3 $m.bmap 'SELECT * FROM objects; SELECT * FROM extents' > $m.rows
done
test "$(wc -l < raw.rows)" -gt 10
cmp raw.rows e01.rows

# The process that read the E01 (the libtool wrapper's shell is
# another): the one where libewf bound symbols.
cat ld.* | grep 'binding file [^ ]*/libewf\.so\.2 ' > ewf.bindings
test "$(wc -l < ewf.bindings)" -gt 100
grep -q 'libtsk\.so' ld.*
# Its load order (ld.so's "file=" lines): libewf before every other
# libyal library.
log=$(grep -l 'binding file [^ ]*/libewf\.so\.2 ' ld.*)
test "$(echo "$log" | wc -l)" -eq 1
grep -o 'file=lib[a-z0-9]*\.so[.0-9]*' "$log" | uniq > order
cat order
ewf=$(grep -n '=libewf\.so\.2$' order | cut -d: -f1)
test -n "$ewf"
for l in libvmdk libvhdi libbfio; do
    n=$(grep -n "=$l\.so\.1\$" order | head -n 1 | cut -d: -f1)
    test -n "$n"
    test "$ewf" -lt "$n"
done
# Its libyal helpers, to libewf only.
sed -E 's/.* to ([^ ]*) \[[0-9]+\]: normal symbol `([^'"'"']*).*/\1 \2/' \
    ewf.bindings | grep ' lib[a-z]*_' > ewf.libyal
grep -q ' libcdata_' ewf.libyal
grep -q ' libbfio_' ewf.libyal
if grep -v '^[^ ]*/libewf\.so\.2 ' ewf.libyal | head; then
    fail "libewf's libyal helpers bound to another library"
fi
