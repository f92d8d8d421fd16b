/* libFuzzer harness of the whole btrfs reader (lib/fs/btrfs) with the
 * accounting core, over an image in memory (lib/fs/fuzz-fs.h: the
 * input's format and the mapping context), capped at 1 GiB.
 * tests/test-btrfs-fuzz.sh makes seeds from mkfs.btrfs images
 * (tests/xfs-fuzz-seed).  A filesystem of several devices is mapped
 * at the end with this one.
 *
 *   ./configure --enable-fuzzing && make
 *   lib/fs/btrfs/fuzz-btrfs -jobs=2 CORPUS SEEDS
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>

#include "fs.h"
#include "fuzz-fs.h"
#include "btrfs-map.h"

#define MAX_SECTORS (UINT32_C (1024) << 11)

extern const struct vbm_fs_reader vbm_btrfs_reader;

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct fuzz_image im;
  struct vbm_error err = { 0 };
  struct vbm_ctx ctx = { .err = &err };
  struct vbm_volume vol = { .object = 0, .device = "/dev/fuzz" };

  if (!fuzz_image_open (&im, data, size, MAX_SECTORS, &ctx, &vol))
    return 0;
  /* As fs.c would: the reader maps only what its probe accepts; as
   * build.c would, the members of a filesystem over several devices
   * at the end.
   */
  if (vbm_btrfs_reader.probe (&ctx, &vol) &&
      (vbm_btrfs_reader.map (&ctx, &vol) == -1 ||
       vbm_map_btrfs_pending (&ctx) == -1) && err.msg[0] == '\0')
    abort ();                   /* a fatal error says why */
  vbm_btrfs_state_free (ctx.btrfs);
  fuzz_image_close (&im);
  return 0;
}
