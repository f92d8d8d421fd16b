/* libFuzzer harness of the LVM metadata reader.  An input is either
 * the text of a metadata area, which goes through the tokenizer and
 * tree, the VG model, the structure check and the layout (the first
 * and last MiB of every LV resolved), as vbm_map_lvm would take it;
 * or, if it starts like one (the magic at byte 32), the metadata of a
 * thin pool, whose btrees are walked for thin devices 0 to 2.
 *
 *   ./configure --enable-fuzzing && make
 *   lib/volume/fuzz-lvm -jobs=2 CORPUS tests/lvm-fuzz-seeds
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "lvm.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define WINDOW (1024 * 1024)

static int
check_piece (void *opaque, const struct vbm_lvm_piece *p)
{
  const struct vbm_lvm_vg *vg = opaque;

  /* The layout must only hand out real PVs and non-empty pieces. */
  if (p->pv >= vg->n_pvs || p->len == 0)
    abort ();
  return 0;
}

struct input {
  const uint8_t *data;
  size_t size;
};

/* Reads from the input, zeroes past its end. */
static int
read_input (void *opaque, uint64_t offset, void *buf, size_t len)
{
  const struct input *in = opaque;

  memset (buf, 0, len);
  if (offset < in->size)
    memcpy (buf, in->data + offset,
            in->size - offset < len ? in->size - offset : len);
  return 0;
}

static void
fuzz_thin (const uint8_t *data, size_t size)
{
  struct input in = { data, size };
  struct vbm_lvm_thin_map map;
  struct vbm_error err;
  uint64_t dev;
  size_t i;

  for (dev = 0; dev < 3; ++dev) {
    if (vbm_lvm_thin_read (read_input, &in, 2 * 1024 * 1024, dev, &map,
                           &err) == -1)
      continue;
    for (i = 1; i < map.n; ++i)
      if (map.runs[i].vblock < map.runs[i - 1].vblock + map.runs[i - 1].count)
        abort ();               /* runs must be sorted, not overlapping */
    vbm_lvm_thin_map_free (&map);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct vbm_error err;
  struct vbm_lvm_tree *t;
  struct vbm_lvm_vg *vg;
  uint32_t i;

  if (size >= 40 && memcmp (data + 32, "\xba\x52\x9c\x01", 4) == 0) {
    fuzz_thin (data, size);
    return 0;
  }
  t = vbm_lvm_text_parse ((const char *) data, size, &err);
  if (t == NULL)
    return 0;
  vg = vbm_lvm_vg_parse (t, NULL, NULL, &err);
  vbm_lvm_tree_free (t);
  if (vg == NULL)
    return 0;
  vbm_lvm_vg_check (vg, NULL, NULL);
  for (i = 0; i < vg->n_lvs; ++i) {
    uint64_t size = vg->lvs[i].size, len = size < WINDOW ? size : WINDOW;
    uint64_t unmapped = 0;

    vbm_lvm_resolve (vg, i, 0, len, false, 4096, check_piece, vg, &unmapped);
    vbm_lvm_resolve (vg, i, size - len, len, true, 4096, check_piece, vg,
                     &unmapped);
  }
  vbm_lvm_vg_free (vg);
  return 0;
}
