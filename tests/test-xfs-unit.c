/* Unit test of the XFS reader's pure parsing: extent records
 * (xfs-map.h), the superblock checks (sb.c) and directory entries
 * (dir.c), over buffers built here by the on-disk format's definition.
 */
#include <config.h>

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xfs-map.h"

static void
be16 (unsigned char *p, uint16_t v)
{
  p[0] = v >> 8;
  p[1] = v;
}

static void
be32 (unsigned char *p, uint32_t v)
{
  be16 (p, v >> 16);
  be16 (p + 2, v);
}

static void
be64 (unsigned char *p, uint64_t v)
{
  be32 (p, v >> 32);
  be32 (p + 4, v);
}

/* ---- Superblock. ---- */

/* A v5 filesystem of 4 AGs of 16384 4 KiB blocks, 512-byte inodes. */
static void
make_sb (unsigned char *b)
{
  memset (b, 0, 512);
  be32 (b, 0x58465342);
  be32 (b + 4, 4096);
  be64 (b + 8, 4 * 16384 - 100);        /* the last AG shorter */
  be64 (b + 48, 16384 + 64);            /* log in AG 1 (agblklog 14) */
  be64 (b + 56, 128);
  be32 (b + 84, 16384);
  be32 (b + 88, 4);
  be32 (b + 96, 1000);
  be16 (b + 100, 0xb4a5);               /* v5 with the usual bits */
  be16 (b + 102, 512);
  be16 (b + 104, 512);
  be16 (b + 106, 8);
  b[120] = 12;
  b[121] = 9;
  b[122] = 9;
  b[123] = 3;
  b[124] = 14;
  be32 (b + 216, 0x3);                  /* ftype, sparse inodes */
  be32 (b + 212, 0x5);                  /* finobt, reflink */
}

static void
sb_refused (unsigned char *b, const char *what)
{
  struct xfs_sb sb;
  char why[128] = "";

  if (xfs_parse_sb (b, 512, &sb, why, sizeof why)) {
    fprintf (stderr, "accepted: %s\n", what);
    abort ();
  }
  assert (why[0] != '\0');
  make_sb (b);
}

static void
test_sb (void)
{
  unsigned char b[512];
  struct xfs_sb sb;
  char why[128];

  make_sb (b);
  assert (xfs_sb_magic (b, sizeof b));
  assert (xfs_parse_sb (b, sizeof b, &sb, why, sizeof why));
  assert (sb.version == 5 && sb.crc && sb.ftype && sb.sparse);
  assert (sb.finobt && sb.reflink && !sb.rmapbt);
  assert (sb.dirblksize == 4096 && sb.agcount == 4);

  b[0] = 'Y';
  sb_refused (b, "bad magic");
  be16 (b + 100, 0xb4a6);
  sb_refused (b, "version 6");
  be32 (b + 4, 3000);
  sb_refused (b, "block size not a power of two");
  b[120] = 13;
  sb_refused (b, "block log not the block size's");
  be16 (b + 104, 8192);
  b[122] = 13;
  sb_refused (b, "inodes bigger than blocks");
  b[123] = 4;
  sb_refused (b, "inodes per block log");
  b[124] = 15;
  sb_refused (b, "AG block log");
  be32 (b + 88, 0);
  sb_refused (b, "no AGs");
  be64 (b + 8, 4 * 16384 + 1);
  sb_refused (b, "more blocks than the AGs hold");
  be64 (b + 8, 3 * 16384);
  sb_refused (b, "a whole AG too many");
  be64 (b + 48, 16384 * 2 - 10);
  sb_refused (b, "log past its AG");
  be32 (b + 96, 0);
  sb_refused (b, "empty internal log");
  b[192] = 5;
  sb_refused (b, "directory blocks of 128 KiB");
}

/* ---- Directories. ---- */

struct seen {
  unsigned n;
  uint64_t ino[8];
  char name[8][32];
};

static int
record (void *opaque, uint64_t ino, const unsigned char *name,
        unsigned len)
{
  struct seen *s = opaque;

  assert (s->n < 8 && len < 32);
  s->ino[s->n] = ino;
  memcpy (s->name[s->n], name, len);
  s->name[s->n][len] = '\0';
  s->n++;
  return 0;
}

static void
test_sf (void)
{
  /* count 2, i8count 0, parent 128; entries "ab" -> 131, "c" -> 200
   * (namelen, offset, name, ftype, 4-byte inode).
   */
  static const unsigned char sf[] = {
    2, 0, 0, 0, 0, 128,
    2, 0, 0x60, 'a', 'b', 1, 0, 0, 0, 131,
    1, 0, 0x70, 'c', 2, 0, 0, 0, 200,
  };
  struct seen s = { 0 };
  const char *why = NULL;

  assert (xfs_dir_sf (sf, sizeof sf, true, record, &s, &why) == 0);
  assert (why == NULL && s.n == 2);
  assert (s.ino[0] == 131 && strcmp (s.name[0], "ab") == 0);
  assert (s.ino[1] == 200 && strcmp (s.name[1], "c") == 0);

  /* Cut short: the first entry given, then a reason. */
  memset (&s, 0, sizeof s);
  assert (xfs_dir_sf (sf, sizeof sf - 2, true, record, &s, &why) == 0);
  assert (why != NULL && s.n == 1);
}

/* An entry at off: inumber, namelen, name, ftype, tag. */
static size_t
put_entry (unsigned char *b, size_t off, uint64_t ino, const char *name)
{
  size_t len = strlen (name), size = (8 + 1 + len + 1 + 2 + 7) & ~7u;

  be64 (b + off, ino);
  b[off + 8] = len;
  memcpy (b + off + 9, name, len);
  b[off + 9 + len] = 1;
  be16 (b + off + size - 2, off);
  return off + size;
}

static void
test_block (void)
{
  unsigned char b[4096];
  struct seen s = { 0 };
  const char *why = NULL;
  size_t off = 64;

  /* A v5 data block: ".", "..", a free entry, "hello", free to the end. */
  memset (b, 0, sizeof b);
  be32 (b, 0x58444433);
  off = put_entry (b, off, 128, ".");
  off = put_entry (b, off, 128, "..");
  be16 (b + off, 0xffff);
  be16 (b + off + 2, 32);
  off += 32;
  off = put_entry (b, off, 1234, "hello");
  be16 (b + off, 0xffff);
  be16 (b + off + 2, sizeof b - off);
  assert (xfs_dir_block (b, sizeof b, true, true, record, &s, &why) == 0);
  assert (why == NULL && s.n == 1 && s.ino[0] == 1234);
  assert (strcmp (s.name[0], "hello") == 0);

  /* The same as a block-format block: the tail's leaf entries are not
   * entries; a tail count too big is refused.
   */
  be32 (b, 0x58444233);
  be16 (b + off + 2, sizeof b - off - 8 - 3 * 8);
  be32 (b + sizeof b - 8, 3);
  memset (&s, 0, sizeof s);
  assert (xfs_dir_block (b, sizeof b, true, true, record, &s, &why) == 0);
  assert (why == NULL && s.n == 1);
  be32 (b + sizeof b - 8, 10000);
  memset (&s, 0, sizeof s);
  assert (xfs_dir_block (b, sizeof b, true, true, record, &s, &why) == 0);
  assert (why != NULL && s.n == 0);

  /* A free entry longer than the block stops the parse. */
  be32 (b, 0x58444433);
  be16 (b + off + 2, 8192);
  why = NULL;
  memset (&s, 0, sizeof s);
  assert (xfs_dir_block (b, sizeof b, true, true, record, &s, &why) == 0);
  assert (why != NULL && s.n == 1);

  /* A leaf block is not parsed, and v4 magic is not v5's. */
  be32 (b, 0x3df1);
  why = NULL;
  memset (&s, 0, sizeof s);
  assert (xfs_dir_block (b, sizeof b, true, true, record, &s, &why) == 0);
  assert (why == NULL && s.n == 0);
  be32 (b, 0x58443244);
  assert (xfs_dir_block (b, sizeof b, true, true, record, &s, &why) == 0);
  assert (s.n == 0);
}

/* ---- Extent records. ---- */

/* Packs as the format says, field by field, bit by bit. */
static void
pack (unsigned char *p, bool unwritten, uint64_t off, uint64_t fsb,
      uint64_t len)
{
  unsigned char bits[128];
  int i, k = 0;

  bits[k++] = unwritten;
  for (i = 53; i >= 0; i--)
    bits[k++] = (off >> i) & 1;
  for (i = 51; i >= 0; i--)
    bits[k++] = (fsb >> i) & 1;
  for (i = 20; i >= 0; i--)
    bits[k++] = (len >> i) & 1;
  assert (k == 128);
  memset (p, 0, 16);
  for (i = 0; i < 128; i++)
    p[i / 8] |= bits[i] << (7 - i % 8);
}

static void
test_extent (void)
{
  static const struct xfs_extent cases[] = {
    { 0, 0, 1, false },
    { 256, 1616, 2, true },
    { (UINT64_C (1) << 54) - 1, (UINT64_C (1) << 52) - 1, 0x1fffff, true },
    { 0x123456789ab, 0x3456789abcdef, 0x12345, false },
    /* A block number crossing the two 64-bit words. */
    { 1, UINT64_C (0x1ff) << 43 | 0x7ff, 7, false },
  };
  unsigned char p[16];
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct xfs_extent *c = &cases[i];
    struct xfs_extent e;

    pack (p, c->unwritten, c->startoff, c->fsb, c->len);
    xfs_extent_unpack (p, &e);
    assert (e.startoff == c->startoff && e.fsb == c->fsb &&
            e.len == c->len && e.unwritten == c->unwritten);
  }
}

/* A record as the kernel wrote it (xfs_db: data offset 256 startblock
 * 1616 count 2 flag 0), then with its unwritten bit set.
 */
static void
test_kernel_extent (void)
{
  unsigned char rec[16] = {
    0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0xca, 0, 0, 0x02,
  };
  struct xfs_extent e;

  xfs_extent_unpack (rec, &e);
  assert (!e.unwritten && e.startoff == 256 && e.fsb == 1616 && e.len == 2);
  rec[0] |= 0x80;
  xfs_extent_unpack (rec, &e);
  assert (e.unwritten && e.startoff == 256 && e.fsb == 1616 && e.len == 2);
}

int
main (void)
{
  test_extent ();
  test_kernel_extent ();
  test_sb ();
  test_sf ();
  test_block ();
  printf ("test-xfs-unit: ok\n");
  return 0;
}
