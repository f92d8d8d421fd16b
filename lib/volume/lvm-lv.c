/* LVs as volumes: the layout that takes an LV offset to disk ranges
 * (through lvm-layout.c to PV offsets, then to the disks the PVs were
 * found on), and a thin LV's, through its pool's metadata first.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "checked-overflow.h"
#include "ctx.h"
#include "lower-bound.h"
#include "lvm-map.h"

/* ---- Any LV. ---- */

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

int
vbm_lvm_lv_resolve (const struct vbm_volume_layout *l, uint64_t off,
                    uint64_t len, bool first_copy_only,
                    vbm_volume_piece_fn fn, void *opaque,
                    uint64_t *unmapped)
{
  const struct lv_layout *ll = (const struct lv_layout *) l;
  struct piece_state ps = {
    .ll = ll, .fn = fn, .opaque = opaque, .unmapped = unmapped,
  };

  return vbm_lvm_resolve (ll->m->vg, ll->lv, off, len, first_copy_only,
                          first_copy_only ? UINT64_MAX
                          : VBM_LVM_MAX_CHUNKS, lv_piece, &ps, unmapped);
}


/* ---- Thin LVs: their blocks through the pool's metadata. ---- */


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
  return vbm_lvm_lv_resolve (&meta->l, offset, len, true, meta_piece, &r,
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
    size_t lo;
    const struct vbm_lvm_thin_run *run;
    struct thin_piece_state ts;
    int r;

    /* The first run ending after vb. */
    lo = LOWER_BOUND (i, map->n,
                      map->runs[i].vblock + map->runs[i].count <= vb);
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
        r = vbm_lvm_lv_resolve (&tl->data.l, data_off, n_here, first_copy_only,
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

bool
vbm_lvm_thin_setup (struct vg_map *m, uint32_t i, const char *device,
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
    .l.resolve = vbm_lvm_lv_resolve, .m = m, .lv = pool->segs[0].pool_meta_lv,
    .past_end_warned = warned,
  };
  tl->l.resolve = thin_resolve;
  tl->data = (struct lv_layout) {
    .l.resolve = vbm_lvm_lv_resolve, .m = m, .lv = pool->segs[0].pool_lv,
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

