#!/usr/bin/env bash
# The installed library is usable on its own: its public header and
# pkg-config file build a program that maps a disk through a build
# handle and looks a byte up.
source ./functions.sh
set -x
requires pkg-config --version
requires cc --version

make -C "$top_builddir/lib" install DESTDIR="$tmp/inst" >/dev/null
pc=$(dirname "$(find "$tmp/inst" -name virtbmap.pc)")
export PKG_CONFIG_PATH="$pc"
flags=$(pkg-config --define-prefix --cflags --libs virtbmap)
cat > "$tmp/prog.c" <<'C'
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <virtbmap.h>

static int
show (void *opaque, const struct vbm_hit *h)
{
  printf ("%c %s %s\n", h->kind, h->device, h->path ? h->path : "-");
  return 0;
}

/* A program built against a later header, whose structs have grown:
 * the fields this library knows are filled, the rest left alone, and
 * struct_size says which.
 */
struct later_hit {
  struct vbm_hit hit;
  char more[24];
};

static int
lookup_sizes (struct vbm_map *map)
{
  struct vbm_error err;
  struct vbm_index *idx = vbm_index_load (map, &err);
  struct vbm_hit hit = VBM_HIT_INIT, unset = { 0 };
  struct later_hit later;
  size_t i;

  memset (&later, 0xff, sizeof later);
  later.hit.struct_size = sizeof later;
  if (idx == NULL ||
      vbm_index_lookup (idx, 0, 1048576, &hit) == -1 ||
      vbm_index_lookup (idx, 0, 1048576, &later.hit) == -1 ||
      vbm_index_lookup (idx, 0, 1048576, &unset) != -1) {
    fprintf (stderr, "index lookup of byte 1 MiB\n");
    return -1;
  }
  for (i = 0; i < sizeof later.more; ++i)
    if (later.more[i] != (char) 0xff) {
      fprintf (stderr, "byte %zu past the library's struct written\n", i);
      return -1;
    }
  if (later.hit.struct_size != sizeof (struct vbm_hit) ||
      later.hit.kind != hit.kind || strcmp (later.hit.device, hit.device) ||
      later.hit.start != hit.start || later.hit.end != hit.end ||
      later.hit.object_offset != hit.object_offset ||
      later.hit.object_id != hit.object_id) {
    fprintf (stderr, "a larger struct vbm_hit reads differently\n");
    return -1;
  }
  printf ("index %c %s %" PRIu64 "-%" PRIu64 " %" PRId64 "\n",
          hit.kind, hit.device, hit.start, hit.end, hit.object_offset);
  vbm_index_free (idx);
  return 0;
}

static void
count_warning (void *opaque, const char *msg)
{
  ++*(unsigned *) opaque;
}

int
main (int argc, char *argv[])
{
  struct vbm_error err;
  struct vbm_source *disk = vbm_source_open (argv[1], NULL, &err);
  struct vbm_build *b = vbm_build_new (&err);
  struct vbm_stats stats = VBM_STATS_INIT, unset = { 0 };
  struct vbm_disk_info info = VBM_DISK_INFO_INIT;
  unsigned warnings = 0;
  struct vbm_map *map;

  if (disk == NULL || b == NULL) {
    fprintf (stderr, "%s\n", err.msg);
    return 1;
  }
  printf ("source %s %s %" PRIu64 "\n", vbm_source_path (disk),
          vbm_source_format (disk), vbm_source_size (disk));
  /* Options are checked when set. */
  if (vbm_build_set_sector_size (b, 1000, &err) != -1 ||
      err.errnum != EINVAL ||
      vbm_build_set_sector_size (b, 512, &err) == -1) {
    fprintf (stderr, "sector size 1000 accepted, or 512 refused\n");
    return 1;
  }
  vbm_build_set_warning_callback (b, count_warning, &warnings);
  /* A stats struct whose size was never set is refused. */
  if (vbm_build_map (b, argv[2], &disk, 1, &unset, &err) != -1 ||
      err.errnum != EINVAL) {
    fprintf (stderr, "stats without struct_size accepted\n");
    return 1;
  }
  if (vbm_build_map (b, argv[2], &disk, 1, &stats, &err) == -1 ||
      (map = vbm_map_open (argv[2], &err)) == NULL ||
      vbm_map_get_disk (map, 0, &info, &err) == -1 ||
      vbm_map_lookup (map, 0, 1048576, show, NULL, &err) == -1) {
    fprintf (stderr, "%s\n", err.msg);
    return 1;
  }
  printf ("stats disks=%u partitions=%u filesystems=%u warnings=%u/%u\n",
          stats.disks, stats.partitions, stats.filesystems,
          stats.warnings, warnings);
  printf ("disk %s %s %" PRIu64 "\n", info.device, info.format, info.size);
  if (lookup_sizes (map) == -1)
    return 1;
  vbm_map_close (map);
  vbm_build_free (b);
  vbm_source_close (disk);
  return 0;
}
C
# Under --enable-sanitizers the library needs the sanitizer runtime.
cc -Wall -Werror ${SANITIZER_CFLAGS:-} -o "$tmp/prog" "$tmp/prog.c" $flags
"$srcdir/make-sample-image" "$tmp/disk.img"
LD_LIBRARY_PATH="$(dirname "$(find "$tmp/inst" -name 'libvirtbmap.so' -print -quit)")" \
    "$tmp/prog" "$tmp/disk.img" "$tmp/disk.bmap" > "$tmp/out"
cat "$tmp/out"
# Byte 1 MiB is the first byte of the partition (sfdisk placed it at
# sector 2048) and of its filesystem's boot block.
grep -qx 'v /dev/sda -' "$tmp/out"
# The accessors and the disk in the map against stat(1); the counts
# against the image make-sample-image builds (one MBR partition with
# an ext4 filesystem, nothing wrong with it).
size=$(stat -c %s "$tmp/disk.img")
grep -qx "source $tmp/disk.img raw $size" "$tmp/out"
grep -qx "disk /dev/sda raw $size" "$tmp/out"
grep -qx 'stats disks=1 partitions=1 filesystems=1 warnings=0/0' "$tmp/out"
# The index's answer at 1 MiB: the boot block, the 1024 bytes before
# the superblock, which ext2/3/4 always keeps at byte 1024 of the
# filesystem.
grep -qx 'index m /dev/sda1 1048576-1049600 0' "$tmp/out"
grep -qx 'p /dev/sda1 -' "$tmp/out"
grep -q '^m /dev/sda1 <' "$tmp/out"
