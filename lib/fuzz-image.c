/* libFuzzer harness of the whole mapping pipeline over an image held in
 * memory: the partition table readers (MBR, EBR chains, GPT at both
 * sector sizes), and behind them every filesystem reader (ext2/3/4
 * through libext2fs and io.c's io_manager, NTFS through libntfs-3g and
 * record.c, FAT through libtsk, XFS and btrfs by our own readers, btrfs
 * over several devices at the end as build.c maps them) read the fuzz
 * input as a raw disk.
 *
 * The first byte of an input picks the logical sector size (0: detect,
 * 1: 512, 2: 4096, anything else: detect); the rest is the disk.  The
 * image is put in a memfd, so no disk is touched and the library runs
 * exactly as virt-bmap runs it; the map goes to a private directory
 * in /dev/shm (else $TMPDIR).  The seeds tell the readers apart: the
 * tests named test-*-fuzz.sh.
 *
 *   ./configure --enable-fuzzing && make
 *   lib/fuzz-image -jobs=2 -max_len=2097152 CORPUS SEEDS
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>

#include "virtbmap.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static char *dir;              /* the maps of this process */

static void
remove_dir (void)
{
  if (dir)
    rmdir (dir);
}

static void
on_warning (void *opaque, const char *msg)
{
  unsigned *n = opaque;

  /* A warning is a message: never empty. */
  if (msg == NULL || *msg == '\0')
    abort ();
  ++*n;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const unsigned sizes[] = { 0, 512, 4096 };
  struct vbm_error err = { 0 };
  struct vbm_stats stats = VBM_STATS_INIT;
  struct vbm_source *src;
  struct vbm_build *b;
  char path[64], out[4096];
  unsigned warnings = 0, ss;
  int fd, r;

  if (size < 1)
    return 0;
  ss = data[0] < 3 ? sizes[data[0]] : 0;
  data++, size--;

  if (dir == NULL) {
    /* In memory if it can: each map is written and synced. */
    const char *t = getenv ("TMPDIR");

    if (access ("/dev/shm", W_OK) == 0)
      t = "/dev/shm";

    if (asprintf (&dir, "%s/fuzz-image.XXXXXX", t ? t : "/tmp") == -1 ||
        mkdtemp (dir) == NULL)
      abort ();
    atexit (remove_dir);
  }

  fd = memfd_create ("fuzz-image", 0);
  if (fd == -1)
    abort ();
  if (size > 0 && write (fd, data, size) != (ssize_t) size)
    abort ();
  snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
  snprintf (out, sizeof out, "%s/map.bmap", dir);

  /* Raw: the magic of a qemu format would start qemu-nbd. */
  src = vbm_source_open (path, "raw", &err);
  if (src == NULL)
    abort ();                   /* a memfd always opens */
  b = vbm_build_new (&err);
  if (b == NULL)
    abort ();
  vbm_build_set_warning_callback (b, on_warning, &warnings);
  if (vbm_build_set_sector_size (b, ss, &err) == -1)
    abort ();

  r = vbm_build_map (b, out, &src, 1, &stats, &err);
  if (r == -1) {
    /* A failure says why, and leaves nothing behind. */
    if (err.msg[0] == '\0' || access (out, F_OK) == 0)
      abort ();
  }
  else {
    if (stats.disks != 1)
      abort ();
    unlink (out);
  }

  vbm_build_free (b);
  vbm_source_close (src);
  close (fd);
  return 0;
}
