/* Reads: device bytes, logical ranges through the chunk map, and tree
 * blocks, checked (address, fsid, checksum, level, item count) and
 * kept in a small cache.  A block whose first copy is bad is read
 * from the next copy.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "btrfs-map.h"

int
bt_nomem (struct btrfs_map *m)
{
  vbm_set_error (m->ctx->err, ENOMEM, "%s: btrfs: out of memory", m->device);
  return -1;
}

int
bt_dev_pread (struct btrfs_map *m, const struct bt_dev *d, void *buf,
              size_t len, uint64_t off)
{
  (void) m;
  if (!d->present || off > d->mem->vol.length ||
      len > d->mem->vol.length - off)
    return 1;
  /* The member's context shares m->ctx's error. */
  return vbm_volume_pread (&d->mem->ctx, &d->mem->vol, buf, len, off) == -1
    ? -1 : 0;
}

int
bt_resolve (struct btrfs_map *m, uint64_t logical, uint64_t len,
            bt_piece_fn fn, void *opaque, uint64_t *unmapped)
{
  while (len > 0) {
    const struct bt_chunk *c = bt_chunk_next (&m->chunks, logical);
    uint64_t n;

    if (c == NULL) {
      *unmapped += len;
      return 0;
    }
    if (c->logical > logical) {
      n = c->logical - logical < len ? c->logical - logical : len;
      *unmapped += n;
      logical += n;
      len -= n;
      continue;
    }
    n = c->logical + c->length - logical;
    if (n > len)
      n = len;
    if (bt_chunk_resolve (&m->chunks, c, logical, n, -1, fn, opaque) == -1)
      return -1;
    logical += n;
    len -= n;
  }
  return 0;
}

struct read_state {
  struct btrfs_map *m;
  unsigned char *buf;
  uint64_t logical;
  int r;
};

static int
read_piece (void *opaque, const struct bt_piece *p)
{
  struct read_state *rs = opaque;
  int r;

  if (rs->r != 0)
    return 0;
  if (p->stripe->dev < 0) {
    rs->r = 1;
    return 0;
  }
  r = bt_dev_pread (rs->m, &rs->m->devs.ptr[p->stripe->dev],
                    rs->buf + (p->logical - rs->logical), p->len,
                    p->physical);
  if (r == -1)
    return -1;
  rs->r = r;
  return 0;
}

int
bt_read_logical (struct btrfs_map *m, void *buf, size_t len,
                 uint64_t logical, int copy)
{
  struct read_state rs = { .m = m, .buf = buf, .logical = logical };
  uint64_t done = 0;

  while (done < len) {
    const struct bt_chunk *c = bt_chunk_find (&m->chunks, logical + done);
    uint64_t n;

    if (c == NULL || copy >= c->ncopies)
      return 1;
    n = c->logical + c->length - (logical + done);
    if (n > len - done)
      n = len - done;
    if (bt_chunk_resolve (&m->chunks, c, logical + done, n, copy,
                          read_piece, &rs) == -1)
      return -1;
    if (rs.r)
      return rs.r;
    done += n;
  }
  return 0;
}

/* What is wrong with a block read at logical, or NULL. */
static const char *
check_block (struct btrfs_map *m, const unsigned char *b, uint64_t logical,
             int level)
{
  uint32_t n = vbm_le32 (b + 96);
  unsigned lv = b[100];
  int ok;

  if (vbm_le64 (b + 48) != logical)
    return "it names another address";
  if (memcmp (b + 32, m->sb.meta_fsid, BT_FSID_SIZE) != 0)
    return "another filesystem's fsid";
  ok = bt_csum_ok (m->sb.csum_type, b, m->ns);
  if (ok == 0)
    return "bad checksum";
  if (lv >= BT_MAX_LEVEL || (level >= 0 && lv != (unsigned) level))
    return "wrong level";
  if (lv == 0 ? n > (m->ns - BT_HEADER_SIZE) / BT_ITEM_SIZE
      : n == 0 || n > (m->ns - BT_HEADER_SIZE) / BT_PTR_SIZE)
    return "bad item count";
  return NULL;
}

const unsigned char *
bt_read_block (struct btrfs_map *m, uint64_t logical, int level, int *fatal)
{
  struct bt_cache_slot *s = &m->cache[(logical / m->ns) % BT_CACHE_SLOTS];
  const struct bt_chunk *c;
  const char *why = NULL, *w;
  unsigned copy;

  *fatal = 0;
  if (s->buf && s->logical == logical &&
      (level < 0 || s->buf[100] == (unsigned) level))
    return s->buf;
  if (s->buf == NULL && (s->buf = malloc (m->ns)) == NULL) {
    *fatal = bt_nomem (m);
    return NULL;
  }
  s->logical = UINT64_MAX;      /* no longer what it held */
  c = bt_chunk_find (&m->chunks, logical);
  if (c == NULL || logical % m->ss ||
      c->logical + c->length - logical < m->ns) {
    why = "outside every chunk";
    goto bad;
  }
  for (copy = 0; copy < c->ncopies; copy++) {
    int r = bt_read_logical (m, s->buf, m->ns, logical, copy);

    if (r == -1) {
      *fatal = -1;
      return NULL;
    }
    w = r ? "on a missing device or past its end"
      : check_block (m, s->buf, logical, level);
    if (w == NULL) {
      if (copy > 0)
        bt_warn (m, "btrfs tree block %" PRIu64 ": copy 1 unusable (%s), "
                 "copy %u used", logical, why, copy + 1);
      s->logical = logical;
      return s->buf;
    }
    if (strcmp (w, "bad checksum") == 0)
      m->bad_csum++;
    if (why == NULL)
      why = w;
  }
 bad:
  if (m->bad_blocks++ < 20)
    bt_warn (m, "btrfs tree block %" PRIu64 ": %s: skipped", logical, why);
  return NULL;
}

void
bt_cache_free (struct btrfs_map *m)
{
  size_t i;

  for (i = 0; i < BT_CACHE_SLOTS; i++)
    free (m->cache[i].buf);
}
