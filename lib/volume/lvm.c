/* The LVM2 mapper.  A PV is found like a filesystem, in a partition or
 * a whole disk: its label and metadata areas are mapped at once and
 * the PV is remembered with the newest valid metadata text of its
 * areas.  A VG may span PVs of several disks, so the VGs are mapped
 * once every disk has been seen (vbm_map_lvm): each LV becomes an
 * object (kind 'l', /dev/VG/LV, sub-LVs first) with the offset inside
 * the LV for every disk range, unallocated extents free space, and
 * the filesystem of each visible LV is mapped through a volume whose
 * layout resolves LV offsets to disk ranges.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checked-overflow.h"
#include "ctx.h"
#include "fs.h"
#include "lvm.h"
#include "vector.h"
#include "volumes.h"

#define LABEL_SCAN_BYTES (VBM_LVM_LABEL_SCAN_SECTORS * VBM_LVM_SECTOR)
/* Stripe chunks resolved per walk of a whole LV: 2^26 chunks of 4 KiB
 * or more are 256 GiB of striped data; beyond, metadata describing an
 * LV far bigger than its PVs would keep us busy for nothing.
 */
#define MAX_CHUNKS (UINT64_C (1) << 26)

/* A PV found on a disk. */
struct found_pv {
  unsigned disk;
  struct vbm_source *src;
  int64_t object;               /* the partition or disk holding it */
  char *device;
  uint64_t offset, length;      /* on its disk */
  struct vbm_lvm_label label;
  char *text;                   /* newest valid metadata, or NULL */
  size_t text_len;
  uint64_t seqno;
  char vg_uuid[VBM_LVM_ID_LEN + 1];
  bool mapped;                  /* its VG has been mapped */
};
DEFINE_VECTOR_TYPE (found_pv_vector, struct found_pv);

struct vbm_lvm_state {
  found_pv_vector pvs;
};

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

/* A child object of a PV (label, metadata area, free extents). */
static int64_t
pv_child (struct vbm_ctx *ctx, const struct vbm_volume *vol, char kind,
          const char *path, uint64_t size)
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

  id = pv_child (ctx, vol, kind, path, len);
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
  if (vbm_lvm_crc (VBM_LVM_INITIAL_CRC, buf, r->size) != r->checksum) {
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
  if (h.n_rlocns == 0 || (h.rlocn[0].flags & 1))
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

/* ---- Mapping the VGs. ---- */

/* A VG being mapped: its model and, for each of its PVs, where it is. */
struct vg_map {
  struct vbm_ctx *ctx;
  struct vbm_lvm_vg *vg;
  struct found_pv **where;      /* per vg->pvs[i]; NULL if missing */
  int64_t *lv_object;           /* per LV, 0 until mapped */
  unsigned char *lv_done;
};

static void
vg_warn (void *opaque, const char *msg)
{
  vbm_warn (opaque, "%s", msg);
}

/* The layout of an LV as a volume. */
struct lv_layout {
  struct vbm_volume_layout l;
  struct vg_map *m;
  uint32_t lv;
  /* Pieces past the end of their PV are clipped; warned once. */
  bool *past_end_warned;
};

struct piece_state {
  const struct lv_layout *ll;
  vbm_volume_piece_fn fn;
  void *opaque;
  uint64_t *unmapped;
};

static int
lv_piece (void *opaque, const struct vbm_lvm_piece *p)
{
  struct piece_state *ps = opaque;
  const struct vg_map *m = ps->ll->m;
  const struct found_pv *f = m->where[p->pv];
  struct vbm_volume_piece vp;
  uint64_t len = p->len;

  if (f == NULL) {
    *ps->unmapped += len;
    return 0;
  }
  if (p->pv_offset >= f->length)
    len = 0;
  else if (len > f->length - p->pv_offset)
    len = f->length - p->pv_offset;
  if (len < p->len) {
    *ps->unmapped += p->len - len;
    if (!*ps->ll->past_end_warned) {
      *ps->ll->past_end_warned = true;
      vbm_warn (m->ctx, "/dev/%s/%s: extents past the end of PV %s (%s); "
                "not mapped", m->vg->name, m->vg->lvs[ps->ll->lv].name,
                m->vg->pvs[p->pv].name, f->device);
    }
    if (len == 0)
      return 0;
  }
  vp = (struct vbm_volume_piece) {
    .disk = f->disk, .src = f->src, .disk_offset = f->offset + p->pv_offset,
    .vol_offset = p->lv_offset, .len = len, .copy = p->copy,
  };
  return ps->fn (ps->opaque, &vp);
}

static int
lv_resolve (const struct vbm_volume_layout *l, uint64_t off, uint64_t len,
            bool first_copy_only, vbm_volume_piece_fn fn, void *opaque,
            uint64_t *unmapped)
{
  const struct lv_layout *ll = (const struct lv_layout *) l;
  struct piece_state ps = {
    .ll = ll, .fn = fn, .opaque = opaque, .unmapped = unmapped,
  };

  return vbm_lvm_resolve (ll->m->vg, ll->lv, off, len, first_copy_only,
                          first_copy_only ? UINT64_MAX : MAX_CHUNKS,
                          lv_piece, &ps, unmapped);
}

/* Extents of an LV object: consecutive pieces merge into one. */
struct lv_extents {
  struct vbm_ctx *ctx;
  int64_t object;
  bool have;
  struct vbm_volume_piece run;
  unsigned first_disk;
  bool any;
};

static int
flush_run (struct lv_extents *e)
{
  struct vbm_ctx *ctx = e->ctx;
  unsigned saved = ctx->disk;
  int r;

  if (!e->have)
    return 0;
  e->have = false;
  ctx->disk = e->run.disk;
  r = vbm_add_extent (ctx, e->object, e->run.disk_offset, e->run.len,
                      e->run.vol_offset, 0);
  ctx->disk = saved;
  return r;
}

static int
lv_extent_piece (void *opaque, const struct vbm_volume_piece *p)
{
  struct lv_extents *e = opaque;

  if (e->have && e->run.disk == p->disk && e->run.copy == p->copy &&
      e->run.disk_offset + e->run.len == p->disk_offset &&
      e->run.vol_offset + e->run.len == p->vol_offset) {
    e->run.len += p->len;
    return 0;
  }
  if (flush_run (e) == -1)
    return -1;
  e->run = *p;
  e->have = true;
  return 0;
}

/* The disk and object an LV hangs from: those of the first PV or
 * sub-LV its first segment uses.
 */
static void
lv_parent (const struct vg_map *m, uint32_t i, int64_t *parent,
           unsigned *disk)
{
  const struct vbm_lvm_lv *lv = &m->vg->lvs[i];
  uint32_t p;

  *parent = 0;
  *disk = m->ctx->disk;
  for (p = 0; p < m->vg->n_pvs; ++p)
    if (m->where[p]) {
      *disk = m->where[p]->disk;
      *parent = m->where[p]->object;
      break;
    }
  if (lv->n_segs == 0)
    return;
  {
    const struct vbm_lvm_segment *s = &lv->segs[0];
    int64_t sub = s->type == VBM_LVM_SEG_THIN_POOL ? s->pool_lv
      : s->type == VBM_LVM_SEG_THIN ? s->thin_pool : -1;

    if (sub < 0 && s->n_areas > 0) {
      if (s->areas[0].is_lv)
        sub = s->areas[0].index;
      else if (m->where[s->areas[0].index]) {
        *disk = m->where[s->areas[0].index]->disk;
        *parent = m->where[s->areas[0].index]->object;
      }
    }
    if (sub >= 0 && m->lv_object[sub] > 0)
      *parent = m->lv_object[sub];
  }
}

/* Whether an LV's filesystem can be read: not thin, not a pool. */
static bool
lv_has_data (const struct vbm_lvm_lv *lv)
{
  uint32_t s;

  if (lv->broken || lv->n_segs == 0)
    return false;
  for (s = 0; s < lv->n_segs; ++s)
    if (lv->segs[s].type == VBM_LVM_SEG_THIN ||
        lv->segs[s].type == VBM_LVM_SEG_THIN_POOL ||
        lv->segs[s].type == VBM_LVM_SEG_OTHER)
      return false;
  return true;
}

/* Whether a contiguous volume does: one piece, one copy.  Sets *first. */
struct single_state {
  unsigned n;
  struct vbm_volume_piece first;
};

static int
count_piece (void *opaque, const struct vbm_volume_piece *p)
{
  struct single_state *s = opaque;

  if (s->n == 0)
    s->first = *p;
  else if (s->first.disk == p->disk && s->first.copy == p->copy &&
           s->first.disk_offset + s->first.len == p->disk_offset &&
           s->first.vol_offset + s->first.len == p->vol_offset) {
    s->first.len += p->len;
    return 0;
  }
  s->n++;
  return 0;
}

/* ---- Thin volumes: their blocks through the pool's metadata. ---- */

struct thin_layout {
  struct vbm_volume_layout l;
  struct lv_layout data;        /* the pool's _tdata */
  struct vbm_lvm_thin_map map;
};

struct meta_read {
  struct vbm_ctx *ctx;
  unsigned char *buf;
  uint64_t offset;
};

static int
meta_piece (void *opaque, const struct vbm_volume_piece *p)
{
  struct meta_read *r = opaque;

  return vbm_source_pread (p->src, r->buf + (p->vol_offset - r->offset),
                           p->len, p->disk_offset, r->ctx->err);
}

/* Reads the pool's _tmeta, an LV like any other. */
static int
read_meta (void *opaque, uint64_t offset, void *buf, size_t len)
{
  const struct lv_layout *meta = opaque;
  struct meta_read r = { .ctx = meta->m->ctx, .buf = buf, .offset = offset };
  uint64_t unmapped = 0;

  memset (buf, 0, len);
  return lv_resolve (&meta->l, offset, len, true, meta_piece, &r,
                     &unmapped) == -1 ? -1 : 0;
}

struct thin_piece_state {
  vbm_volume_piece_fn fn;
  void *opaque;
  uint64_t thin_off, data_off;  /* the same byte in both */
};

static int
thin_piece (void *opaque, const struct vbm_volume_piece *p)
{
  const struct thin_piece_state *t = opaque;
  struct vbm_volume_piece q = *p;

  q.vol_offset = p->vol_offset - t->data_off + t->thin_off;
  return t->fn (t->opaque, &q);
}

/* Thin offsets to _tdata offsets through the runs, then to disks. */
static int
thin_resolve (const struct vbm_volume_layout *l, uint64_t off, uint64_t len,
              bool first_copy_only, vbm_volume_piece_fn fn, void *opaque,
              uint64_t *unmapped)
{
  const struct thin_layout *tl = (const struct thin_layout *) l;
  const struct vbm_lvm_thin_map *map = &tl->map;
  const uint64_t bs = map->block_size;

  while (len > 0) {
    uint64_t vb = off / bs, n_here = len, end, data_off;
    size_t lo = 0, hi = map->n;
    const struct vbm_lvm_thin_run *run;
    struct thin_piece_state ts;
    int r;

    /* The first run ending after vb. */
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;

      if (map->runs[mid].vblock + map->runs[mid].count <= vb)
        lo = mid + 1;
      else
        hi = mid;
    }
    run = lo < map->n ? &map->runs[lo] : NULL;
    if (run == NULL || run->vblock > vb) {
      /* A hole: never written, reads as zeroes. */
      if (run && !MUL_OVERFLOW (run->vblock, bs, &end) && end - off < len)
        n_here = end - off;
      *unmapped += n_here;
    }
    else {
      if (!MUL_OVERFLOW (run->vblock + run->count, bs, &end) &&
          end - off < len)
        n_here = end - off;
      if (MUL_OVERFLOW (run->dblock + (vb - run->vblock), bs, &data_off) ||
          ADD_OVERFLOW (data_off, off % bs, &data_off)) {
        *unmapped += n_here;
      }
      else {
        ts = (struct thin_piece_state) {
          .fn = fn, .opaque = opaque, .thin_off = off, .data_off = data_off,
        };
        r = lv_resolve (&tl->data.l, data_off, n_here, first_copy_only,
                        thin_piece, &ts, unmapped);
        if (r == -1)
          return -1;
      }
    }
    off += n_here;
    len -= n_here;
  }
  return 0;
}

/* Reads the mappings of thin LV i.  False (after a warning) if they
 * cannot be had: its blocks then stay with the pool.
 */
static bool
thin_setup (struct vg_map *m, uint32_t i, const char *device,
            struct thin_layout *tl, bool *warned)
{
  const struct vbm_lvm_vg *vg = m->vg;
  const struct vbm_lvm_segment *seg = &vg->lvs[i].segs[0];
  const struct vbm_lvm_lv *pool;
  struct lv_layout meta;
  struct vbm_error why;

  pool = seg->thin_pool >= 0 ? &vg->lvs[seg->thin_pool] : NULL;
  if (vg->lvs[i].n_segs != 1 || pool == NULL || pool->broken ||
      pool->n_segs != 1 || pool->segs[0].type != VBM_LVM_SEG_THIN_POOL) {
    vbm_warn (m->ctx, "%s: thin volume without a usable pool: its blocks "
              "are not mapped", device);
    return false;
  }
  meta = (struct lv_layout) {
    .l.resolve = lv_resolve, .m = m, .lv = pool->segs[0].pool_meta_lv,
    .past_end_warned = warned,
  };
  tl->l.resolve = thin_resolve;
  tl->data = (struct lv_layout) {
    .l.resolve = lv_resolve, .m = m, .lv = pool->segs[0].pool_lv,
    .past_end_warned = warned,
  };
  if (vbm_lvm_thin_read (read_meta, &meta, vg->lvs[meta.lv].size,
                         seg->device_id, &tl->map, &why) == -1) {
    vbm_warn (m->ctx, "%s: thin volume: %s; its blocks are not mapped "
              "(they stay with the pool's data)", device,
              why.errnum ? why.msg : m->ctx->err->msg);
    return false;
  }
  vbm_debug (m->ctx, "%s: thin volume, %zu runs of %" PRIu64 "-byte "
             "blocks", device, tl->map.n, tl->map.block_size);
  return true;
}

static int map_lv (struct vg_map *m, uint32_t i);

/* Maps the sub-LVs an LV refers to, so that they come first. */
static int
map_sub_lvs (struct vg_map *m, const struct vbm_lvm_lv *lv)
{
  uint32_t s, a;

  for (s = 0; s < lv->n_segs; ++s) {
    const struct vbm_lvm_segment *seg = &lv->segs[s];

    for (a = 0; a < seg->n_areas; ++a) {
      if (seg->meta && map_lv (m, seg->meta[a].index) == -1)
        return -1;
      if (seg->areas[a].is_lv && map_lv (m, seg->areas[a].index) == -1)
        return -1;
    }
    if ((seg->log_lv >= 0 && map_lv (m, seg->log_lv) == -1) ||
        (seg->pool_meta_lv >= 0 && map_lv (m, seg->pool_meta_lv) == -1) ||
        (seg->pool_lv >= 0 && map_lv (m, seg->pool_lv) == -1) ||
        (seg->thin_pool >= 0 && map_lv (m, seg->thin_pool) == -1))
      return -1;
  }
  return 0;
}

static int
map_lv (struct vg_map *m, uint32_t i)
{
  struct vbm_ctx *ctx = m->ctx;
  const struct vbm_lvm_lv *lv = &m->vg->lvs[i];
  bool past_end_warned = false;
  struct lv_layout ll = {
    .l.resolve = lv_resolve, .m = m, .lv = i,
    .past_end_warned = &past_end_warned,
  };
  struct lv_extents e = { .ctx = ctx };
  struct vbm_object obj = { .kind = VBM_KIND_LV, .size = lv->size };
  uint64_t unmapped = 0;
  char *device;
  unsigned saved_disk = ctx->disk;
  struct vbm_source *saved_src = ctx->src;
  struct thin_layout tl = { .map.n = 0 };
  const struct vbm_volume_layout *lay = &ll.l;
  bool thin = false;
  uint32_t s;
  int r = -1, rr;

  if (m->lv_done[i])
    return 0;
  m->lv_done[i] = 1;
  /* Broken LVs (loops) are not followed: they resolve to nothing. */
  if (!lv->broken && map_sub_lvs (m, lv) == -1)
    return -1;

  if (asprintf (&device, "/dev/%s/%s", m->vg->name, lv->name) == -1)
    return nomem (ctx);
  lv_parent (m, i, &obj.parent, &obj.disk);
  obj.device = device;
  e.object = vbm_add_object (ctx, &obj);
  if (e.object == -1)
    goto out;
  m->lv_object[i] = e.object;
  vbm_debug (ctx, "%s: %u segments, %" PRIu64 " bytes%s", device,
             lv->n_segs, lv->size, lv->visible ? "" : " (hidden)");

  for (s = 0; s < lv->n_segs; ++s)
    if (lv->segs[s].type == VBM_LVM_SEG_OTHER)
      vbm_warn (ctx, "%s: segment type %s is not supported; not mapped",
                device, lv->segs[s].type_name);
  if (lv->broken || lv->size == 0) {
    r = 0;
    goto out;
  }
  if (lv->n_segs > 0 && lv->segs[0].type == VBM_LVM_SEG_THIN) {
    if (!thin_setup (m, i, device, &tl, &past_end_warned)) {
      r = 0;
      goto out;
    }
    lay = &tl.l;
    thin = true;
  }
  rr = lay->resolve (lay, 0, lv->size, false, lv_extent_piece, &e,
                     &unmapped);
  if (rr == -1 || flush_run (&e) == -1)
    goto out;
  if (rr == 1)
    vbm_warn (ctx, "%s: more than %" PRIu64 " stripe chunks; the rest of "
              "the LV is not mapped", device, MAX_CHUNKS);
  else if (unmapped > 0 && !thin && lv_has_data (lv))
    vbm_warn (ctx, "%s: %" PRIu64 " bytes of the LV lie on no PV present "
              "(missing PV, extents past the end of a PV or of a sub-LV); "
              "not mapped, and read as zeroes", device, unmapped);

  if (lv->visible && (thin || lv_has_data (lv))) {
    struct single_state one = { 0 };
    uint64_t lost = 0;          /* warned above */
    struct vbm_volume vol = {
      .object = e.object, .device = device, .length = lv->size,
    };

    if (lay->resolve (lay, 0, lv->size, false, count_piece, &one,
                      &lost) == -1)
      goto out;
    if (one.n == 1 && one.first.len == lv->size && lost == 0) {
      /* The common case: a linear LV, one range of one disk. */
      vol.offset = one.first.disk_offset;
      ctx->disk = one.first.disk;
      ctx->src = one.first.src;
    }
    else {
      vol.layout = lay;
      ctx->disk = obj.disk;
    }
    r = vbm_map_filesystem (ctx, &vol);
    ctx->disk = saved_disk;
    ctx->src = saved_src;
    if (r == -1)
      goto out;
  }
  r = 0;
 out:
  vbm_lvm_thin_map_free (&tl.map);
  free (device);
  return r;
}

/* Allocated ranges of a PV, to find its free extents. */
struct range {
  uint64_t start, end;
};
DEFINE_VECTOR_TYPE (range_vector, struct range);

static int
compare_ranges (const struct range *a, const struct range *b)
{
  return a->start < b->start ? -1 : a->start > b->start ? 1 : 0;
}

/* Maps the bytes of PV p that no label, metadata area or allocated
 * extent covers: free extents inside the data area, unused bytes
 * elsewhere.
 */
static int
map_pv_gaps (struct vg_map *m, uint32_t p)
{
  struct vbm_ctx *ctx = m->ctx;
  const struct vbm_lvm_pv *pv = &m->vg->pvs[p];
  const struct found_pv *f = m->where[p];
  const uint64_t es = m->vg->extent_size;
  range_vector used = empty_vector;
  range_vector gaps[2] = { empty_vector, empty_vector };
  struct vbm_volume vol = {
    .object = f->object, .device = f->device, .offset = f->offset,
    .length = f->length,
  };
  uint64_t data_end, pos = 0;
  uint32_t l, s, a;
  size_t i, k;
  int r = -1;

  if (MUL_OVERFLOW (pv->pe_count, es, &data_end) ||
      ADD_OVERFLOW (data_end, pv->pe_start, &data_end) ||
      data_end > f->length)
    data_end = f->length;
  if (range_vector_append (&used, (struct range) {
        f->label.sector * VBM_LVM_SECTOR,
        (f->label.sector + 1) * VBM_LVM_SECTOR }) == -1)
    goto nomem;
  for (i = 0; i < f->label.n_meta; ++i) {
    const struct vbm_lvm_area *ma = &f->label.meta[i];

    if (ma->offset < f->length && ma->size >= VBM_LVM_MDA_HEADER_SIZE &&
        range_vector_append (&used, (struct range) {
            ma->offset, ma->offset + (ma->size < f->length - ma->offset
                                      ? ma->size : f->length - ma->offset)
          }) == -1)
      goto nomem;
  }
  for (l = 0; l < m->vg->n_lvs; ++l) {
    const struct vbm_lvm_lv *lv = &m->vg->lvs[l];

    for (s = 0; s < lv->n_segs; ++s) {
      const struct vbm_lvm_segment *seg = &lv->segs[s];
      uint64_t n = seg->type == VBM_LVM_SEG_STRIPED
        ? seg->extent_count / seg->n_areas : seg->extent_count;

      if (seg->type != VBM_LVM_SEG_STRIPED && seg->type != VBM_LVM_SEG_MIRROR)
        continue;
      for (a = 0; a < seg->n_areas; ++a) {
        const struct vbm_lvm_seg_area *ar = &seg->areas[a];
        struct range rg;

        if (ar->is_lv || ar->index != p)
          continue;
        if (MUL_OVERFLOW (ar->start, es, &rg.start) ||
            ADD_OVERFLOW (rg.start, pv->pe_start, &rg.start) ||
            MUL_OVERFLOW (n, es, &rg.end) ||
            ADD_OVERFLOW (rg.end, rg.start, &rg.end))
          continue;
        if (range_vector_append (&used, rg) == -1)
          goto nomem;
      }
    }
  }
  range_vector_sort (&used, compare_ranges);
  /* The gaps, split at the edges of the data area, into gaps (free
   * extents inside it, unused bytes outside), then one object each.
   */
  for (i = 0; i <= used.len; ++i) {
    uint64_t next = i < used.len ? used.ptr[i].start : f->length;

    if (next > f->length)
      next = f->length;
    while (pos < next) {
      bool in_data = pos >= pv->pe_start && pos < data_end;
      uint64_t stop = in_data ? data_end
        : pos < pv->pe_start ? pv->pe_start : f->length;

      if (stop > next)
        stop = next;
      if (range_vector_append (&gaps[in_data],
                               (struct range) { pos, stop }) == -1)
        goto nomem;
      pos = stop;
    }
    if (i < used.len && used.ptr[i].end > pos)
      pos = used.ptr[i].end;
  }
  for (k = 0; k < 2; ++k) {
    uint64_t total = 0;
    int64_t id;

    if (gaps[k].len == 0)
      continue;
    for (i = 0; i < gaps[k].len; ++i)
      total += gaps[k].ptr[i].end - gaps[k].ptr[i].start;
    id = pv_child (ctx, &vol, VBM_KIND_FREE,
                   k ? "<lvm free extents>" : "<lvm unused>", total);
    if (id == -1)
      goto out;
    for (i = 0; i < gaps[k].len; ++i)
      if (vbm_add_extent (ctx, id, f->offset + gaps[k].ptr[i].start,
                          gaps[k].ptr[i].end - gaps[k].ptr[i].start,
                          -1, 0) == -1)
        goto out;
  }
  r = 0;
  goto out;
 nomem:
  nomem (ctx);
 out:
  range_vector_reset (&used);
  range_vector_reset (&gaps[0]);
  range_vector_reset (&gaps[1]);
  return r;
}

/* Extents past the end of the device of a PV are not there. */
static void
clip_pv (struct vbm_ctx *ctx, struct vg_map *m, uint32_t p)
{
  struct vbm_lvm_pv *pv = &m->vg->pvs[p];
  const struct found_pv *f = m->where[p];
  uint64_t avail = f->length > pv->pe_start
    ? (f->length - pv->pe_start) / m->vg->extent_size : 0;

  if (pv->pe_count > avail) {
    vbm_warn (ctx, "%s: PV %s of VG %s has %" PRIu64 " extents from byte %"
              PRIu64 ", but room for %" PRIu64 "; those past the end are "
              "not mapped", f->device, pv->name, m->vg->name, pv->pe_count,
              pv->pe_start, avail);
    pv->pe_count = avail;
  }
}

/* Maps the VG whose newest metadata is in found PV best. */
static int
map_vg (struct vbm_ctx *ctx, struct found_pv *best)
{
  struct vbm_lvm_state *st = ctx->lvm;
  struct vg_map m = { .ctx = ctx };
  struct vbm_lvm_tree *t;
  struct vbm_error why;
  unsigned saved_disk = ctx->disk;
  struct vbm_source *saved_src = ctx->src;
  size_t i;
  uint32_t p, l;
  int r = -1;

  t = vbm_lvm_text_parse (best->text, best->text_len, &why);
  if (t == NULL) {
    vbm_warn (ctx, "%s: %s", best->device, why.msg);
    return 0;
  }
  m.vg = vbm_lvm_vg_parse (t, vg_warn, ctx, &why);
  vbm_lvm_tree_free (t);
  if (m.vg == NULL) {
    vbm_warn (ctx, "%s: %s", best->device, why.msg);
    return 0;
  }
  vbm_debug (ctx, "VG %s: seqno %" PRIu64 ", %" PRIu32 " PVs, %" PRIu32
             " LVs", m.vg->name, m.vg->seqno, m.vg->n_pvs, m.vg->n_lvs);
  m.where = calloc (m.vg->n_pvs + 1, sizeof *m.where);
  m.lv_object = calloc (m.vg->n_lvs + 1, sizeof *m.lv_object);
  m.lv_done = calloc (m.vg->n_lvs + 1, 1);
  if (m.where == NULL || m.lv_object == NULL || m.lv_done == NULL) {
    nomem (ctx);
    goto out;
  }
  for (p = 0; p < m.vg->n_pvs; ++p) {
    for (i = 0; i < st->pvs.len; ++i) {
      struct found_pv *f = &st->pvs.ptr[i];

      if (!f->mapped && m.vg->pvs[p].uuid[0] &&
          strcmp (f->label.pv_uuid, m.vg->pvs[p].uuid) == 0) {
        m.where[p] = f;
        f->mapped = true;
        if (f->text && f->seqno < m.vg->seqno)
          vbm_warn (ctx, "%s: older metadata of VG %s (seqno %" PRIu64
                    ", the newest is %" PRIu64 ")", f->device, m.vg->name,
                    f->seqno, m.vg->seqno);
        break;
      }
    }
    if (m.where[p] == NULL)
      vbm_warn (ctx, "VG %s: PV %s (%s) is missing; the extents on it are "
                "not mapped", m.vg->name, m.vg->pvs[p].name,
                m.vg->pvs[p].device_hint);
    else
      clip_pv (ctx, &m, p);
  }
  vbm_lvm_vg_check (m.vg, vg_warn, ctx);
  for (l = 0; l < m.vg->n_lvs; ++l)
    if (map_lv (&m, l) == -1)
      goto out;
  for (p = 0; p < m.vg->n_pvs; ++p)
    if (m.where[p]) {
      ctx->disk = m.where[p]->disk;
      ctx->src = m.where[p]->src;
      if (map_pv_gaps (&m, p) == -1)
        goto out;
    }
  r = 0;
 out:
  ctx->disk = saved_disk;
  ctx->src = saved_src;
  free (m.where);
  free (m.lv_object);
  free (m.lv_done);
  vbm_lvm_vg_free (m.vg);
  return r;
}

int
vbm_map_lvm (struct vbm_ctx *ctx)
{
  struct vbm_lvm_state *st = ctx->lvm;
  size_t i, j;

  if (st == NULL)
    return 0;
  for (;;) {
    struct found_pv *best = NULL;

    /* The newest metadata of a VG not mapped yet. */
    for (i = 0; i < st->pvs.len; ++i) {
      struct found_pv *f = &st->pvs.ptr[i];

      if (f->mapped || f->text == NULL)
        continue;
      if (best == NULL) {
        best = f;
        continue;
      }
      if (strcmp (f->vg_uuid, best->vg_uuid) == 0 && f->seqno > best->seqno)
        best = f;
    }
    if (best == NULL)
      break;
    for (j = 0; j < st->pvs.len; ++j)
      if (strcmp (st->pvs.ptr[j].vg_uuid, best->vg_uuid) == 0 &&
          st->pvs.ptr[j].text && st->pvs.ptr[j].seqno > best->seqno)
        best = &st->pvs.ptr[j];
    if (map_vg (ctx, best) == -1)
      return -1;
    /* Whatever happened, this VG's PVs are done. */
    best->mapped = true;
    for (j = 0; j < st->pvs.len; ++j)
      if (strcmp (st->pvs.ptr[j].vg_uuid, best->vg_uuid) == 0)
        st->pvs.ptr[j].mapped = true;
  }
  for (i = 0; i < st->pvs.len; ++i)
    if (!st->pvs.ptr[i].mapped)
      vbm_warn (ctx, "%s: LVM PV %s: no valid metadata of its VG was "
                "found; its extents are not mapped", st->pvs.ptr[i].device,
                st->pvs.ptr[i].label.pv_uuid);
  return 0;
}
