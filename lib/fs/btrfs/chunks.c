/* The chunk map: where a logical address lies on the devices, for
 * every profile (SINGLE, DUP, RAID0, RAID1, RAID1C3/C4, RAID10,
 * RAID5/6 with their rotating parity, as btrfs-progs' volumes.c lays
 * them out).  Pure computation, unit-tested (tests/test-btrfs-unit.c).
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "btrfs-map.h"
#include "lower-bound.h"

static bool
pow2 (uint64_t x)
{
  return x && !(x & (x - 1));
}

/* Copies, parity stripes and the stripe count a profile needs. */
static bool
profile (struct bt_chunk *c, const char **why)
{
  const uint64_t p = c->type & BT_BG_PROFILES;
  const unsigned n = c->num_stripes;
  uint64_t data_stripes = 1;

  c->ncopies = 1;
  c->nparity = 0;
  if (p && !pow2 (p)) {
    *why = "several profiles at once";
    return false;
  }
  switch (p) {
  case 0:
    if (n != 1) goto bad;
    break;
  case BT_BG_DUP:
  case BT_BG_RAID1:
    if (n != 2) goto bad;
    c->ncopies = 2;
    break;
  case BT_BG_RAID1C3:
    if (n != 3) goto bad;
    c->ncopies = 3;
    break;
  case BT_BG_RAID1C4:
    if (n != 4) goto bad;
    c->ncopies = 4;
    break;
  case BT_BG_RAID0:
    data_stripes = n;
    break;
  case BT_BG_RAID10:
    if (c->sub_stripes != 2 || n < 2 || n % 2) goto bad;
    c->ncopies = 2;
    data_stripes = n / 2;
    break;
  case BT_BG_RAID5:
  case BT_BG_RAID6:
    c->nparity = p == BT_BG_RAID5 ? 1 : 2;
    if (n < c->nparity + 1u) goto bad;
    data_stripes = n - c->nparity;
    break;
  default:
    *why = "unknown profile";
    return false;
  }
  if (c->length % data_stripes) {
    *why = "length not a multiple of the data stripes";
    return false;
  }
  c->dev_len = c->length / data_stripes;
  return true;

 bad:
  *why = "stripe count wrong for its profile";
  return false;
}

bool
bt_chunk_parse (struct bt_chunks *ch, uint64_t logical,
                const unsigned char *p, size_t len, struct bt_chunk *c,
                const char **why)
{
  size_t i;

  memset (c, 0, sizeof *c);
  if (len < BT_CHUNK_SIZE + BT_STRIPE_SIZE) {
    *why = "item too short";
    return false;
  }
  c->logical = logical;
  c->length = vbm_le64 (p);
  c->stripe_len = vbm_le64 (p + 16);
  c->type = vbm_le64 (p + 24);
  c->num_stripes = vbm_le16 (p + 44);
  c->sub_stripes = vbm_le16 (p + 46);
  if (c->num_stripes == 0 ||
      len < BT_CHUNK_SIZE + (size_t) c->num_stripes * BT_STRIPE_SIZE) {
    *why = "stripe count does not fit the item";
    return false;
  }
  if (c->length == 0 || logical + c->length < logical ||
      c->length % 4096 || logical % 4096) {
    *why = "bad start or length";
    return false;
  }
  if (!pow2 (c->stripe_len) || c->stripe_len < 4096 ||
      c->stripe_len > (UINT64_C (1) << 30)) {
    *why = "bad stripe length";
    return false;
  }
  if (!profile (c, why))
    return false;
  if (ch->stripes.len > UINT32_MAX - c->num_stripes) {
    *why = "too many stripes";
    return false;
  }
  c->first_stripe = ch->stripes.len;
  if (bt_stripe_vector_reserve (&ch->stripes, c->num_stripes) == -1) {
    *why = NULL;                /* out of memory */
    return false;
  }
  for (i = 0; i < c->num_stripes; i++) {
    const unsigned char *s = p + BT_CHUNK_SIZE + i * BT_STRIPE_SIZE;
    struct bt_stripe st = { .devid = vbm_le64 (s),
                            .offset = vbm_le64 (s + 8), .dev = -1 };

    if (st.offset + c->dev_len < st.offset || st.offset % 4096) {
      *why = "stripe offset out of range";
      ch->stripes.len = c->first_stripe;
      return false;
    }
    ch->stripes.ptr[ch->stripes.len++] = st;
  }
  return true;
}

/* The index of the first chunk ending after logical. */
static size_t
lower (const struct bt_chunks *ch, uint64_t logical)
{
  const struct bt_chunk *c = ch->v.ptr;

  return LOWER_BOUND (i, ch->v.len, c[i].logical + c[i].length <= logical);
}

int
bt_chunk_add (struct bt_chunks *ch, const struct bt_chunk *c)
{
  size_t i = lower (ch, c->logical);

  if (i < ch->v.len && ch->v.ptr[i].logical < c->logical + c->length) {
    /* The same chunk from the system array and the chunk tree. */
    const struct bt_chunk *o = &ch->v.ptr[i];

    return o->logical == c->logical && o->length == c->length ? 1 : 0;
  }
  if (bt_chunk_vector_reserve (&ch->v, 1) == -1)
    return -1;
  memmove (&ch->v.ptr[i + 1], &ch->v.ptr[i],
           (ch->v.len - i) * sizeof *c);
  ch->v.ptr[i] = *c;
  ch->v.len++;
  return 1;
}

const struct bt_chunk *
bt_chunk_next (const struct bt_chunks *ch, uint64_t logical)
{
  size_t i = lower (ch, logical);

  return i < ch->v.len ? &ch->v.ptr[i] : NULL;
}

const struct bt_chunk *
bt_chunk_find (const struct bt_chunks *ch, uint64_t logical)
{
  size_t i = lower (ch, logical);

  if (i < ch->v.len && ch->v.ptr[i].logical <= logical)
    return &ch->v.ptr[i];
  return NULL;
}

void
bt_chunks_free (struct bt_chunks *ch)
{
  bt_chunk_vector_reset (&ch->v);
  bt_stripe_vector_reset (&ch->stripes);
}

static const struct bt_stripe *
stripe (const struct bt_chunks *ch, const struct bt_chunk *c, unsigned i)
{
  return &ch->stripes.ptr[c->first_stripe + i];
}

int
bt_chunk_resolve (const struct bt_chunks *ch, const struct bt_chunk *c,
                  uint64_t logical, uint64_t len, int only,
                  bt_piece_fn fn, void *opaque)
{
  const uint64_t type = c->type & BT_BG_PROFILES;
  const uint64_t sl = c->stripe_len;
  const unsigned n = c->num_stripes;
  uint64_t off, end;
  unsigned k;

  if (logical < c->logical || logical - c->logical >= c->length)
    return 0;
  off = logical - c->logical;
  end = len > c->length - off ? c->length : off + len;

  if (!(type & (BT_BG_RAID0 | BT_BG_RAID10 | BT_BG_RAID5 | BT_BG_RAID6))) {
    /* Every copy holds the chunk whole. */
    for (k = 0; k < c->ncopies; k++) {
      struct bt_piece p = { .stripe = stripe (ch, c, k),
                            .len = end - off, .logical = logical,
                            .copy = k };

      if (only >= 0 && (unsigned) only != k)
        continue;
      p.physical = p.stripe->offset + off;
      if (fn (opaque, &p) == -1)
        return -1;
    }
    return 0;
  }

  while (off < end) {
    uint64_t nr = off / sl, soff = off % sl, row;
    uint64_t piece = sl - soff < end - off ? sl - soff : end - off;
    unsigned idx;

    if (type & BT_BG_RAID0) {
      idx = nr % n;
      row = nr / n;
    }
    else if (type & BT_BG_RAID10) {
      uint64_t factor = n / c->sub_stripes;

      idx = (nr % factor) * c->sub_stripes;
      row = nr / factor;
    }
    else {
      /* Data stripes rotate with the parity, a place per row. */
      uint64_t ds = n - c->nparity;

      row = nr / ds;
      idx = (nr % ds + row) % n;
    }
    for (k = 0; k < c->ncopies; k++) {
      struct bt_piece p = { .stripe = stripe (ch, c, idx + k),
                            .len = piece, .logical = c->logical + off,
                            .copy = k };

      if (only >= 0 && (unsigned) only != k)
        continue;
      p.physical = p.stripe->offset + row * sl + soff;
      if (fn (opaque, &p) == -1)
        return -1;
    }
    off += piece;
  }
  return 0;
}

unsigned
bt_chunk_parity (const struct bt_chunks *ch, const struct bt_chunk *c,
                 uint64_t row, struct bt_piece p[2])
{
  const unsigned n = c->num_stripes;
  const uint64_t ds = n - c->nparity;
  unsigned k;

  for (k = 0; k < c->nparity; k++) {
    /* P after the row's data stripes, Q after P. */
    p[k].stripe = stripe (ch, c, (ds + k + row) % n);
    p[k].physical = p[k].stripe->offset + row * c->stripe_len;
    p[k].len = c->stripe_len;
    p[k].logical = c->logical + row * ds * c->stripe_len;
    p[k].copy = 0;
  }
  return c->nparity;
}
