/* Finding LVM2 PVs: a label in one of the first four sectors of a
 * partition or disk.  The label and metadata areas are mapped at once
 * and the PV is remembered (ctx->lvm) with the newest valid metadata
 * text of its areas; lvm-map.c maps the VGs once every disk is seen.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checksum-ok.h"
#include "ctx.h"
#include "lvm-map.h"
#include "volumes.h"

#define LABEL_SCAN_BYTES (VBM_LVM_LABEL_SCAN_SECTORS * VBM_LVM_SECTOR)

static void
free_found (struct found_pv *f)
{
  free (f->device);
  free (f->text);
}

void
vbm_lvm_state_free (struct vbm_lvm_state *st)
{
  size_t i;

  if (st == NULL)
    return;
  for (i = 0; i < st->pvs.len; ++i)
    free_found (&st->pvs.ptr[i]);
  found_pv_vector_reset (&st->pvs);
  free (st);
}


static int
nomem (struct vbm_ctx *ctx)
{
  vbm_set_error (ctx->err, ENOMEM, "LVM: out of memory");
  return -1;
}

/* ---- Finding PVs. ---- */

static int
read_label_area (struct vbm_ctx *ctx, const struct vbm_volume *vol,
                 unsigned char *buf, size_t *len)
{
  *len = vol->length < LABEL_SCAN_BYTES ? vol->length : LABEL_SCAN_BYTES;
  *len -= *len % VBM_LVM_SECTOR;
  return vbm_volume_pread (ctx, vol, buf, *len, 0);
}

int
vbm_lvm_probe (struct vbm_ctx *ctx, const struct vbm_volume *vol, bool *found)
{
  unsigned char buf[LABEL_SCAN_BYTES];
  size_t len, i;

  *found = false;
  if (read_label_area (ctx, vol, buf, &len) == -1)
    return -1;
  for (i = 0; i < len; i += VBM_LVM_SECTOR)
    if (memcmp (buf + i, "LABELONE", 8) == 0)
      *found = true;
  return 0;
}

int64_t
vbm_lvm_pv_child (struct vbm_ctx *ctx, const struct vbm_volume *vol,
                  char kind, const char *path, uint64_t size)
{
  struct vbm_object obj = {
    .parent = vol->object, .disk = ctx->disk, .kind = kind,
    .device = vol->device, .path = path, .size = size,
  };

  return vbm_add_object (ctx, &obj);
}

/* An object of the PV's own (label, metadata area) with one extent. */
static int64_t
add_pv_object (struct vbm_ctx *ctx, const struct vbm_volume *vol, char kind,
               const char *path, uint64_t start, uint64_t len, int64_t off)
{
  int64_t id;

  id = vbm_lvm_pv_child (ctx, vol, kind, path, len);
  if (id == -1 || vbm_add_extent (ctx, id, vol->offset + start, len, off,
                                  0) == -1)
    return -1;
  return id;
}

/* Reads the text of slot r of a metadata area and checks it.  Returns
 * 1 (why says what is wrong) if it is not usable.
 */
static int
read_text (struct vbm_ctx *ctx, const struct vbm_volume *vol,
           const struct vbm_lvm_mda_header *h, const struct vbm_lvm_rlocn *r,
           char **text, struct vbm_error *why)
{
  struct vbm_lvm_text_pieces p;
  char *buf;
  unsigned i;
  size_t at = 0;

  *text = NULL;
  if (vbm_lvm_text_pieces (h, r, &p, why) == -1)
    return 1;
  for (i = 0; i < p.n; ++i)
    if (p.offset[i] > vol->length || p.len[i] > vol->length - p.offset[i]) {
      vbm_set_error (why, EINVAL, "the metadata text lies past the end of "
                     "the PV");
      return 1;
    }
  buf = malloc (r->size + 1);
  if (buf == NULL)
    return nomem (ctx);
  for (i = 0; i < p.n; ++i) {
    if (vbm_volume_pread (ctx, vol, buf + at, p.len[i], p.offset[i]) == -1) {
      free (buf);
      return -1;
    }
    at += p.len[i];
  }
  buf[r->size] = '\0';
  if (!vbm_checksum_ok (vbm_lvm_crc (VBM_LVM_INITIAL_CRC, buf, r->size),
                        r->checksum)) {
    vbm_set_error (why, EINVAL, "bad checksum of the metadata text");
    free (buf);
    return 1;
  }
  *text = buf;
  return 0;
}

/* The VG id and seqno of a metadata text, which must parse as a VG. */
static bool
text_vg (const char *text, size_t len, char uuid[VBM_LVM_ID_LEN + 1],
         uint64_t *seqno, struct vbm_error *why)
{
  struct vbm_lvm_tree *t = vbm_lvm_text_parse (text, len, why);
  struct vbm_lvm_vg *vg;

  if (t == NULL)
    return false;
  vg = vbm_lvm_vg_parse (t, NULL, NULL, why);
  vbm_lvm_tree_free (t);
  if (vg == NULL)
    return false;
  memcpy (uuid, vg->uuid, VBM_LVM_ID_LEN + 1);
  *seqno = vg->seqno;
  vbm_lvm_vg_free (vg);
  return true;
}

/* Maps metadata area i of the PV and keeps its text if it is the
 * newest valid one so far.
 */
static int
map_mda (struct vbm_ctx *ctx, const struct vbm_volume *vol,
         struct found_pv *f, unsigned i)
{
  const struct vbm_lvm_area *a = &f->label.meta[i];
  unsigned char hdr[VBM_LVM_MDA_HEADER_SIZE];
  struct vbm_lvm_mda_header h;
  struct vbm_error why;
  char *text;
  uint64_t size = a->size, seqno;
  char uuid[VBM_LVM_ID_LEN + 1];
  int r;

  if (a->offset >= vol->length || size < VBM_LVM_MDA_HEADER_SIZE) {
    vbm_warn (ctx, "%s: LVM metadata area %u (byte %" PRIu64 ", %" PRIu64
              " bytes) is outside the PV or too small; ignored",
              vol->device, i, a->offset, size);
    return 0;
  }
  if (size > vol->length - a->offset) {
    vbm_warn (ctx, "%s: LVM metadata area %u runs past the end of the PV; "
              "clipped", vol->device, i);
    size = vol->length - a->offset;
  }
  if (add_pv_object (ctx, vol, VBM_KIND_METADATA, "<lvm metadata area>",
                     a->offset, size, 0) == -1)
    return -1;
  if (vbm_volume_pread (ctx, vol, hdr, sizeof hdr, a->offset) == -1)
    return -1;
  if (vbm_lvm_parse_mda_header (hdr, a->offset, &h, &why) == -1) {
    vbm_warn (ctx, "%s: %s", vol->device, why.msg);
    return 0;
  }
  if (h.size != a->size)
    vbm_warn (ctx, "%s: the metadata area header gives %" PRIu64 " bytes, "
              "the PV header %" PRIu64, vol->device, h.size, a->size);
  if (h.n_rlocns == 0) {
    /* pvcreate'd but in no VG (or vgreduce'd out of one). */
    f->orphan = true;
    return 0;
  }
  if (h.rlocn[0].flags & 1)
    return 0;                   /* no metadata kept here */
  r = read_text (ctx, vol, &h, &h.rlocn[0], &text, &why);
  if (r == -1)
    return -1;
  if (r == 1 || !text_vg (text, h.rlocn[0].size, uuid, &seqno, &why)) {
    vbm_warn (ctx, "%s: LVM metadata area %u: %s", vol->device, i, why.msg);
    free (text);
    return 0;
  }
  if (f->text && seqno <= f->seqno) {
    free (text);
    return 0;
  }
  free (f->text);
  f->text = text;
  f->text_len = h.rlocn[0].size;
  f->seqno = seqno;
  memcpy (f->vg_uuid, uuid, sizeof uuid);
  return 0;
}

int
vbm_map_lvm_pv (struct vbm_ctx *ctx, const struct vbm_volume *vol)
{
  unsigned char buf[LABEL_SCAN_BYTES];
  struct found_pv f = { .disk = ctx->disk, .src = ctx->src,
                        .object = vol->object, .offset = vol->offset,
                        .length = vol->length };
  struct vbm_error why;
  size_t len, i;
  unsigned m;
  int r = 1;

  if (vol->layout) {
    vbm_warn (ctx, "%s: a PV inside an LV is not mapped", vol->device);
    return 0;
  }
  if (read_label_area (ctx, vol, buf, &len) == -1)
    return -1;
  for (i = 0; i < len && r == 1; i += VBM_LVM_SECTOR)
    r = vbm_lvm_parse_label (buf + i, i / VBM_LVM_SECTOR, &f.label, &why);
  if (r != 0) {
    vbm_warn (ctx, "%s: %s; the PV is not mapped", vol->device,
              r == 1 ? "no LVM label" : why.msg);
    return 0;
  }
  vbm_debug (ctx, "%s: LVM PV %s, label in sector %" PRIu64, vol->device,
             f.label.pv_uuid, f.label.sector);
  if (vbm_set_fstype (ctx, vol->object, "LVM2_member") == -1)
    return -1;
  if (f.label.device_size != vol->length)
    vbm_warn (ctx, "%s: the PV header gives a size of %" PRIu64 " bytes, "
              "the volume has %" PRIu64, vol->device, f.label.device_size,
              vol->length);
  if (add_pv_object (ctx, vol, VBM_KIND_METADATA, "<lvm label>",
                     f.label.sector * VBM_LVM_SECTOR, VBM_LVM_SECTOR,
                     0) == -1)
    return -1;
  f.device = strdup (vol->device);
  if (f.device == NULL)
    return nomem (ctx);
  for (m = 0; m < f.label.n_meta; ++m)
    if (map_mda (ctx, vol, &f, m) == -1)
      goto fail;
  if (ctx->lvm == NULL && (ctx->lvm = calloc (1, sizeof *ctx->lvm)) == NULL)
    goto nomem;
  if (found_pv_vector_append (&ctx->lvm->pvs, f) == -1)
    goto nomem;
  return 0;
 nomem:
  nomem (ctx);
 fail:
  free_found (&f);
  return -1;
}

