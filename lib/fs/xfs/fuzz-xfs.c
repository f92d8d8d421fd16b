/* libFuzzer harness of the whole XFS reader (lib/fs/xfs) with the
 * accounting core, over an image in memory (lib/fs/fuzz-fs.h: the
 * input's format and the mapping context), capped at 64 MiB.
 * tests/test-xfs-fuzz.sh makes seeds from mkfs.xfs images
 * (tests/xfs-fuzz-seed).
 *
 *   ./configure --enable-fuzzing && make
 *   lib/fs/xfs/fuzz-xfs -jobs=2 CORPUS SEEDS
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>

#include "fs.h"
#include "fuzz-fs.h"
#include "xfs-map.h"

#define MAX_SECTORS (UINT32_C (64) << 11)

extern const struct vbm_fs_reader vbm_xfs_reader;

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct fuzz_image im;
  struct vbm_error err = { 0 };
  struct vbm_ctx ctx = { .err = &err };
  struct vbm_volume vol = { .object = 0, .device = "/dev/fuzz" };
  unsigned char probe[4096];

  if (!fuzz_image_open (&im, data, size, MAX_SECTORS, &ctx, &vol))
    return 0;
  /* As fs.c would: the reader maps only what its magic accepts. */
  if (vol.length >= sizeof probe &&
      vbm_volume_pread (&ctx, &vol, probe, sizeof probe, 0) == 0 &&
      vbm_xfs_reader.magic (probe, sizeof probe) &&
      vbm_xfs_reader.map (&ctx, &vol) == -1 && err.msg[0] == '\0')
    abort ();                   /* a fatal error says why */
  fuzz_image_close (&im);
  return 0;
}
