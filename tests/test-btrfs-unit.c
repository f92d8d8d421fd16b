/* Unit test of the btrfs reader's pure parts: where each profile puts
 * a logical byte (chunks.c: SINGLE, DUP, RAID0, RAID1C3, RAID10, and
 * RAID5/6 with the parity rotating one device a row, as btrfs-progs'
 * volumes.c lays them out), chunk items refused, and the superblock's
 * checks and checksum (sb.c), over buffers built here.
 */
#include <config.h>

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btrfs-map.h"
#include "crc32c.h"

#define K64 65536

static void
le16 (unsigned char *p, uint16_t v)
{
  p[0] = v;
  p[1] = v >> 8;
}

static void
le32 (unsigned char *p, uint32_t v)
{
  le16 (p, v);
  le16 (p + 2, v >> 16);
}

static void
le64 (unsigned char *p, uint64_t v)
{
  le32 (p, v);
  le32 (p + 4, v >> 32);
}

/* A chunk item: stripe i on device i + 1 at (i + 1) GiB. */
static size_t
chunk_item (unsigned char *p, uint64_t length, uint64_t type,
            unsigned n, unsigned sub)
{
  unsigned i;

  memset (p, 0, BT_CHUNK_SIZE + n * BT_STRIPE_SIZE);
  le64 (p, length);
  le64 (p + 8, 2);
  le64 (p + 16, K64);
  le64 (p + 24, type);
  le16 (p + 44, n);
  le16 (p + 46, sub);
  for (i = 0; i < n; i++) {
    le64 (p + BT_CHUNK_SIZE + i * BT_STRIPE_SIZE, i + 1);
    le64 (p + BT_CHUNK_SIZE + i * BT_STRIPE_SIZE + 8,
          (uint64_t) (i + 1) << 30);
  }
  return BT_CHUNK_SIZE + n * BT_STRIPE_SIZE;
}

#define MAXP 16
struct got {
  unsigned n;
  struct { uint64_t devid, physical, len, logical; unsigned copy; } p[MAXP];
};

static int
collect (void *opaque, const struct bt_piece *p)
{
  struct got *g = opaque;

  assert (g->n < MAXP);
  g->p[g->n].devid = p->stripe->devid;
  g->p[g->n].physical = p->physical;
  g->p[g->n].len = p->len;
  g->p[g->n].logical = p->logical;
  g->p[g->n].copy = p->copy;
  g->n++;
  return 0;
}

static struct bt_chunks ch;
static struct bt_chunk c;

static void
load (uint64_t length, uint64_t type, unsigned n, unsigned sub)
{
  unsigned char item[BT_CHUNK_SIZE + 8 * BT_STRIPE_SIZE];
  size_t len = chunk_item (item, length, type, n, sub);
  const char *why = "";

  bt_chunks_free (&ch);
  assert (bt_chunk_parse (&ch, UINT64_C (1) << 40, item, len, &c, &why));
  assert (bt_chunk_add (&ch, &c) == 1);
}

/* Where logical offset off (of the chunk, length 4 KiB) lies. */
static struct got
at (uint64_t off)
{
  struct got g = { 0 };

  assert (bt_chunk_resolve (&ch, &c, c.logical + off, 4096, -1, collect,
                            &g) == 0);
  return g;
}

#define GIB(d) ((uint64_t) (d) << 30)

static void
expect1 (uint64_t off, uint64_t devid, uint64_t physical)
{
  struct got g = at (off);

  if (g.n != 1 || g.p[0].devid != devid || g.p[0].physical != physical) {
    fprintf (stderr, "offset %llu: got %u pieces, devid %llu, physical %llu;"
             " expected devid %llu, physical %llu\n",
             (unsigned long long) off, g.n,
             (unsigned long long) g.p[0].devid,
             (unsigned long long) g.p[0].physical,
             (unsigned long long) devid, (unsigned long long) physical);
    exit (1);
  }
}

static void
test_profiles (void)
{
  struct got g;
  struct bt_piece par[2];

  /* SINGLE: stripe 0, same offset. */
  load (GIB (1), BT_BG_DATA, 1, 0);
  expect1 (12345 * 4096, 1, GIB (1) + 12345 * 4096);

  /* DUP: two copies, each the whole chunk. */
  load (GIB (1) / 4, BT_BG_METADATA | BT_BG_DUP, 2, 0);
  g = at (8192);
  assert (g.n == 2 && g.p[0].devid == 1 && g.p[1].devid == 2);
  assert (g.p[0].physical == GIB (1) + 8192 && g.p[1].physical == GIB (2) + 8192);
  assert (g.p[0].copy == 0 && g.p[1].copy == 1);

  /* RAID1C3: three copies. */
  load (GIB (1) / 4, BT_BG_METADATA | BT_BG_RAID1C3, 3, 0);
  g = at (0);
  assert (g.n == 3 && g.p[2].devid == 3 && g.p[2].physical == GIB (3));

  /* RAID0 over 3: 64 KiB stripes taking turns. */
  load (3 * K64 * 10, BT_BG_DATA | BT_BG_RAID0, 3, 0);
  assert (c.dev_len == K64 * 10);
  expect1 (0, 1, GIB (1));
  expect1 (K64, 2, GIB (2));
  expect1 (4 * K64 + 4096, 2, GIB (2) + K64 + 4096);

  /* RAID10 over 4: pairs of mirrors, striped. */
  load (2 * K64 * 10, BT_BG_DATA | BT_BG_RAID10, 4, 2);
  g = at (K64);
  assert (g.n == 2 && g.p[0].devid == 3 && g.p[1].devid == 4);
  assert (g.p[0].physical == GIB (3) && g.p[1].physical == GIB (4));
  g = at (2 * K64);
  assert (g.n == 2 && g.p[0].devid == 1 && g.p[0].physical == GIB (1) + K64);

  /* RAID5 over 3: 2 data stripes a row, parity after them, rotating. */
  load (2 * K64 * 6, BT_BG_DATA | BT_BG_RAID5, 3, 0);
  assert (c.dev_len == 6 * K64 && c.nparity == 1);
  expect1 (0, 1, GIB (1));
  expect1 (K64, 2, GIB (2));
  expect1 (2 * K64, 2, GIB (2) + K64);    /* row 1 starts a device on */
  expect1 (3 * K64, 3, GIB (3) + K64);
  expect1 (4 * K64, 3, GIB (3) + 2 * K64);
  expect1 (5 * K64, 1, GIB (1) + 2 * K64);
  assert (bt_chunk_parity (&ch, &c, 0, par) == 1);
  assert (par[0].stripe->devid == 3 && par[0].physical == GIB (3));
  assert (bt_chunk_parity (&ch, &c, 1, par) == 1);
  assert (par[0].stripe->devid == 1 && par[0].physical == GIB (1) + K64);

  /* RAID6 over 4: P then Q after the data. */
  load (2 * K64 * 4, BT_BG_DATA | BT_BG_RAID6, 4, 0);
  expect1 (0, 1, GIB (1));
  expect1 (2 * K64, 2, GIB (2) + K64);
  assert (bt_chunk_parity (&ch, &c, 0, par) == 2);
  assert (par[0].stripe->devid == 3 && par[1].stripe->devid == 4);
  assert (bt_chunk_parity (&ch, &c, 1, par) == 2);
  assert (par[0].stripe->devid == 4 && par[1].stripe->devid == 1);

  /* A range over stripes: pieces in logical order. */
  load (3 * K64 * 10, BT_BG_DATA | BT_BG_RAID0, 3, 0);
  g = (struct got) { 0 };
  assert (bt_chunk_resolve (&ch, &c, c.logical + K64 - 4096, 8192, -1,
                            collect, &g) == 0);
  assert (g.n == 2 && g.p[0].len == 4096 && g.p[1].devid == 2);
  assert (g.p[1].logical == c.logical + K64);
}

static void
test_bad_chunks (void)
{
  unsigned char item[BT_CHUNK_SIZE + 8 * BT_STRIPE_SIZE];
  struct bt_chunk x;
  const char *why;
  size_t len;

  /* Stripes that do not fit the item. */
  len = chunk_item (item, GIB (1), BT_BG_DATA, 2, 0);
  le16 (item + 44, 65535);
  assert (!bt_chunk_parse (&ch, 0, item, len, &x, &why) && why);
  /* DUP with 3 stripes, RAID6 with 2, two profiles at once. */
  len = chunk_item (item, GIB (1), BT_BG_DUP, 3, 0);
  assert (!bt_chunk_parse (&ch, 0, item, len, &x, &why));
  len = chunk_item (item, GIB (1), BT_BG_RAID6, 2, 0);
  assert (!bt_chunk_parse (&ch, 0, item, len, &x, &why));
  len = chunk_item (item, GIB (1), BT_BG_RAID1 | BT_BG_RAID0, 2, 0);
  assert (!bt_chunk_parse (&ch, 0, item, len, &x, &why));
  /* A stripe length of 0, a length of 0. */
  len = chunk_item (item, GIB (1), BT_BG_DATA, 1, 0);
  le64 (item + 16, 0);
  assert (!bt_chunk_parse (&ch, 0, item, len, &x, &why));
  len = chunk_item (item, 0, BT_BG_DATA, 1, 0);
  assert (!bt_chunk_parse (&ch, 0, item, len, &x, &why));
  /* Overlapping chunks: the second refused. */
  bt_chunks_free (&ch);
  len = chunk_item (item, GIB (1), BT_BG_DATA, 1, 0);
  assert (bt_chunk_parse (&ch, GIB (4), item, len, &x, &why));
  assert (bt_chunk_add (&ch, &x) == 1);
  assert (bt_chunk_parse (&ch, GIB (4) + 4096, item, len, &x, &why));
  assert (bt_chunk_add (&ch, &x) == 0);
  assert (bt_chunk_find (&ch, GIB (5) - 1) != NULL);
  assert (bt_chunk_find (&ch, GIB (5)) == NULL);
}

static void
test_sb (void)
{
  unsigned char b[BT_SUPER_SIZE];
  struct bt_sb sb;
  char why[128];

  memset (b, 0, sizeof b);
  memcpy (b + 64, BT_MAGIC, 8);
  le64 (b + 48, BT_SUPER_OFFSET);
  le32 (b + 144, 4096);
  le32 (b + 148, 16384);
  le64 (b + 136, 1);
  le64 (b + 80, 30 << 20);
  le64 (b + 88, 22 << 20);
  le64 (b + BT_DEV_ITEM_OFF, 1);
  le32 (b, vbm_crc32c (0, b + BT_CSUM_SIZE, sizeof b - BT_CSUM_SIZE));
  assert (bt_parse_sb (b, &sb, why, sizeof why));
  assert (sb.nodesize == 16384 && sb.devid == 1);
  assert (bt_csum_ok (0, b, sizeof b) == 1);
  b[100] ^= 1;
  assert (bt_csum_ok (0, b, sizeof b) == 0);
  assert (bt_csum_ok (1, b, sizeof b) == -1);
  le32 (b + 148, 3 << 12);              /* not a power of two */
  assert (!bt_parse_sb (b, &sb, why, sizeof why));
  le32 (b + 148, 16384);
  le32 (b + 160, 4000);                 /* system array too big */
  assert (!bt_parse_sb (b, &sb, why, sizeof why));
  le32 (b + 160, 0);
  b[198] = 8;                           /* root level */
  assert (!bt_parse_sb (b, &sb, why, sizeof why));
}

int
main (void)
{
  test_profiles ();
  test_bad_chunks ();
  test_sb ();
  bt_chunks_free (&ch);
  printf ("test-btrfs-unit: ok\n");
  return 0;
}
