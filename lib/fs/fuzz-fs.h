/* What the libFuzzer harnesses of single filesystem readers
 * (lib/fs/xfs/fuzz-xfs, lib/fs/btrfs/fuzz-btrfs) share: an image in
 * memory built from the input, and the mapping context's functions
 * (fuzz-fs.c) that read from it and check what the reader records
 * (every extent inside the volume, of a known object) without
 * storing anything.
 *
 * Filesystem images are mostly zeroes, so an input is sparse: a 4-byte
 * little-endian size of the image in sectors (capped by the harness),
 * then records of a 4-byte sector number and the 512 bytes of that
 * sector; sectors without a record read as zeroes.
 * tests/xfs-fuzz-seed makes such inputs from images.
 */
#ifndef VBM_FUZZ_FS_H
#define VBM_FUZZ_FS_H

#include <stddef.h>
#include <stdint.h>

#include "ctx.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

struct fuzz_image {
  uint64_t sectors;
  const uint8_t **rec;          /* records sorted by sector */
  size_t nrec;
  int64_t objects;
};

/* Builds im from the input (at most max_sectors sectors) and points
 * ctx and vol at it.  false if the input is too short or memory runs
 * out: nothing to map.
 */
extern bool fuzz_image_open (struct fuzz_image *im, const uint8_t *data,
                             size_t size, uint32_t max_sectors,
                             struct vbm_ctx *ctx, struct vbm_volume *vol);
extern void fuzz_image_close (struct fuzz_image *im);

#endif /* VBM_FUZZ_FS_H */
