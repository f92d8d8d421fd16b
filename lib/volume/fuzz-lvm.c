/* libFuzzer harness of the LVM metadata reader: each input is the
 * text of a metadata area.  It goes through the tokenizer and tree,
 * the VG model, the structure check and the layout (the first and
 * last MiB of every LV resolved), as vbm_map_lvm would take it.
 *
 *   ./configure --enable-fuzzing && make
 *   lib/volume/fuzz-lvm -jobs=2 CORPUS tests/lvm-fuzz-seeds
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>

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

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct vbm_error err;
  struct vbm_lvm_tree *t;
  struct vbm_lvm_vg *vg;
  uint32_t i;

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
