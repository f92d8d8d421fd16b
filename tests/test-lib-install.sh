#!/usr/bin/env bash
# The installed library is usable on its own: its public header and
# pkg-config file build a program that maps a disk and looks a byte up.
source ./functions.sh
set -x
requires pkg-config --version
requires cc --version

make -C "$top_builddir/lib" install DESTDIR="$tmp/inst" >/dev/null
pc=$(dirname "$(find "$tmp/inst" -name virtbmap.pc)")
export PKG_CONFIG_PATH="$pc"
flags=$(pkg-config --define-prefix --cflags --libs virtbmap)
cat > "$tmp/prog.c" <<'C'
#include <stdio.h>
#include <virtbmap.h>

static int
show (void *opaque, const struct vbm_hit *h)
{
  printf ("%c %s %s\n", h->kind, h->device, h->path ? h->path : "-");
  return 0;
}

int
main (int argc, char *argv[])
{
  struct vbm_error err;
  struct vbm_source *disk = vbm_source_open (argv[1], NULL, &err);
  struct vbm_map *map;

  if (disk == NULL || vbm_build_map (argv[2], &disk, 1, NULL, NULL, &err) == -1 ||
      (map = vbm_map_open (argv[2], &err)) == NULL ||
      vbm_map_lookup (map, 0, 1048576, show, NULL, &err) == -1) {
    fprintf (stderr, "%s\n", err.msg);
    return 1;
  }
  vbm_map_close (map);
  vbm_source_close (disk);
  return 0;
}
C
# Under --enable-sanitizers the library needs the sanitizer runtime.
cc -Wall -Werror ${SANITIZER_CFLAGS:-} -o "$tmp/prog" "$tmp/prog.c" $flags
"$srcdir/make-sample-image" "$tmp/disk.img"
LD_LIBRARY_PATH="$(dirname "$(find "$tmp/inst" -name 'libvirtbmap.so' | head -1)")" \
    "$tmp/prog" "$tmp/disk.img" "$tmp/disk.bmap" > "$tmp/out"
cat "$tmp/out"
# Byte 1 MiB is the first byte of the partition (sfdisk placed it at
# sector 2048) and of its filesystem's boot block.
grep -qx 'v /dev/sda -' "$tmp/out"
grep -qx 'p /dev/sda1 -' "$tmp/out"
grep -q '^m /dev/sda1 <' "$tmp/out"
