/* Unit test of the hash stage (lib/hash): a map made by hand over an
 * image of known bytes, with the cases the stage must get right: holes
 * between and after extents, files interleaved on the disk, a file
 * whose extents go back (second pass), a third file interleaved with
 * two others while only two may be half-hashed (built with MAX_OPEN 2:
 * second pass too), mirror copies of a range, a
 * partial overlap, compressed, unwritten, past-EOF, tree and
 * out-of-disk extents, empty and all-hole files, a symlink.  Each
 * file's expected content is built here from the image and hashed in
 * one call of gnutls_hash_fast: the oracle for the stage's piecewise
 * feeding.
 */
#include <config.h>

#include <assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <gnutls/crypto.h>

#include "hash.h"
#include "schema.h"

#define DISK_SIZE (1024 * 1024)

static unsigned char img[DISK_SIZE];
static sqlite3 *db;

static void
sql (const char *s)
{
  char *msg = NULL;

  if (sqlite3_exec (db, s, NULL, NULL, &msg) != SQLITE_OK) {
    fprintf (stderr, "test-hash-plan: %s: %s\n", s, msg);
    exit (EXIT_FAILURE);
  }
}

static void
object (int id, uint64_t size, unsigned flags)
{
  char s[256];

  snprintf (s, sizeof s, "INSERT INTO objects VALUES (%d, 1, 0, 'f',"
            " '/dev/sda', '/file%d', %d, %llu, %u, NULL)",
            id, id, id, (unsigned long long) size, flags);
  sql (s);
}

static void
extent (int object, uint64_t start, uint64_t len, int64_t offset,
        unsigned flags)
{
  char s[256], off[32];

  if (offset < 0)
    snprintf (off, sizeof off, "NULL");
  else
    snprintf (off, sizeof off, "%lld", (long long) offset);
  snprintf (s, sizeof s, "INSERT INTO extents (object, disk, start, end,"
            " offset, flags) VALUES (%d, 0, %llu, %llu, %s, %u)", object,
            (unsigned long long) start, (unsigned long long) (start + len),
            off, flags);
  sql (s);
}

/* The expected content of a file, built piece by piece. */
struct want {
  unsigned char *p;
  size_t len;
};

static void
want_img (struct want *w, uint64_t start, size_t len)
{
  w->p = realloc (w->p, w->len + len);
  assert (w->p);
  memcpy (w->p + w->len, img + start, len);
  w->len += len;
}

static void
want_zero (struct want *w, size_t len)
{
  w->p = realloc (w->p, w->len + len + 1);
  assert (w->p);
  memset (w->p + w->len, 0, len);
  w->len += len;
}

static void
hex (const unsigned char *d, size_t len, char *out)
{
  size_t i;

  for (i = 0; i < len; ++i)
    sprintf (out + 2 * i, "%02x", d[i]);
}

static int failures;

/* The row of object id: its digests must be those of w, or not_hashed
 * must be why (w NULL).
 */
static void
check (int id, const struct want *w, const char *why)
{
  static const struct { gnutls_digest_algorithm_t a; unsigned len; } al[] = {
    { GNUTLS_DIG_MD5, 16 }, { GNUTLS_DIG_SHA1, 20 }, { GNUTLS_DIG_SHA256, 32 },
  };
  sqlite3_stmt *s;
  unsigned char d[32];
  char want_hex[65];
  size_t i;

  assert (sqlite3_prepare_v2 (db, "SELECT md5, sha1, sha256, not_hashed"
                              " FROM hashes WHERE object = ?", -1, &s,
                              NULL) == SQLITE_OK);
  sqlite3_bind_int (s, 1, id);
  if (sqlite3_step (s) != SQLITE_ROW) {
    if (w || why) {
      fprintf (stderr, "test-hash-plan: object %d: no row\n", id);
      failures++;
    }
    sqlite3_finalize (s);
    return;
  }
  if (!w && !why) {
    fprintf (stderr, "test-hash-plan: object %d: a row, none expected\n", id);
    failures++;
  }
  else if (why) {
    const char *got = (const char *) sqlite3_column_text (s, 3);

    if (got == NULL || strcmp (got, why) != 0 ||
        sqlite3_column_type (s, 2) != SQLITE_NULL) {
      fprintf (stderr, "test-hash-plan: object %d: not_hashed %s, want %s\n",
               id, got ? got : "NULL", why);
      failures++;
    }
  }
  else {
    for (i = 0; i < 3; ++i) {
      const char *got = (const char *) sqlite3_column_text (s, i);

      assert (gnutls_hash_fast (al[i].a, w->p ? w->p : (void *) "",
                                w->len, d) == 0);
      hex (d, al[i].len, want_hex);
      if (got == NULL || strcmp (got, want_hex) != 0) {
        fprintf (stderr, "test-hash-plan: object %d: hash %zu %s, want %s\n",
                 id, i, got ? got : "NULL", want_hex);
        failures++;
      }
    }
    if (sqlite3_column_type (s, 3) != SQLITE_NULL) {
      fprintf (stderr, "test-hash-plan: object %d: not hashed\n", id);
      failures++;
    }
  }
  sqlite3_finalize (s);
}

static unsigned warnings;
static char debug[1024];

static void
on_debug (void *opaque, const char *msg)
{
  snprintf (debug, sizeof debug, "%s", msg);
}

static void
on_warning (void *opaque, const char *msg)
{
  warnings++;
  fprintf (stderr, "warning: %s\n", msg);
}

int
main (void)
{
  char dir[] = "/tmp/test-hash-plan.XXXXXX", imgpath[64], mappath[64];
  struct vbm_build_options opts = {
    .warning = on_warning, .debug = on_debug, .verbose = 1,
  };
  struct vbm_stats stats = { .struct_size = sizeof stats };
  struct vbm_source *src;
  struct vbm_error err;
  struct want w[16] = { { 0 } };
  uint32_t x = 12345;
  size_t i;
  int fd;

  assert (mkdtemp (dir));
  snprintf (imgpath, sizeof imgpath, "%s/disk.img", dir);
  snprintf (mappath, sizeof mappath, "%s/map.bmap", dir);
  for (i = 0; i < DISK_SIZE; ++i) {
    x = x * 1103515245 + 12345;
    img[i] = x >> 16;
  }
  /* The other leg of object 4's mirror: the same bytes elsewhere. */
  memcpy (img + 131072, img + 65536, 4096);
  fd = open (imgpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert (fd >= 0 && write (fd, img, sizeof img) == sizeof img);
  close (fd);

  assert (sqlite3_open (mappath, &db) == SQLITE_OK);
  sql (VBM_SCHEMA_TABLES);
  sql ("INSERT INTO meta VALUES ('schema_version', '1')");
  sql ("INSERT INTO objects VALUES (1, NULL, 0, 'v', '/dev/sda', NULL, 0,"
       " 1048576, 0, 'ext4')");
  extent (1, 0, DISK_SIZE, 0, 0);

  /* 2: a hole between two extents and one to the end; 14 interleaved
   * with it on the disk.
   */
  object (2, 20000, 0);
  extent (2, 4096, 4096, 0, 0);
  extent (2, 16384, 4096, 8192, 0);
  want_img (&w[2], 4096, 4096);
  want_zero (&w[2], 4096);
  want_img (&w[2], 16384, 4096);
  want_zero (&w[2], 20000 - 12288);
  object (14, 8192, 0);
  extent (14, 8192, 4096, 0, 0);
  extent (14, 20480, 4096, 4096, 0);
  want_img (&w[14], 8192, 4096);
  want_img (&w[14], 20480, 4096);
  object (15, 8192, 0);
  extent (15, 12288, 4096, 0, 0);
  extent (15, 24576, 4096, 4096, 0);
  want_img (&w[15], 12288, 4096);
  want_img (&w[15], 24576, 4096);
  /* 3: its second half first on the disk. */
  object (3, 8192, 0);
  extent (3, 45056, 4096, 0, 0);
  extent (3, 40960, 4096, 4096, 0);
  want_img (&w[3], 45056, 4096);
  want_img (&w[3], 40960, 4096);
  /* 4: a mirrored range (two legs), then one more extent. */
  object (4, 6000, 0);
  extent (4, 65536, 4096, 0, 0);
  extent (4, 131072, 4096, 0, 0);
  extent (4, 69632, 4096, 4096, 0);
  want_img (&w[4], 65536, 6000);
  /* 5: two extents claiming offsets 1000-4095. */
  object (5, 8192, 0);
  extent (5, 200704, 4096, 0, 0);
  extent (5, 300000, 2000, 1000, 0);
  /* 6: compressed. */
  object (6, 8192, 0);
  extent (6, 204800, 8192, 0, VBM_EXTENT_COMPRESSED);
  /* 7: unwritten. */
  object (7, 10000, 0);
  extent (7, 409600, 12288, 0, VBM_EXTENT_UNWRITTEN);
  want_zero (&w[7], 10000);
  /* 8: the last block past the size, then a block past EOF. */
  object (8, 5000, 0);
  extent (8, 499712, 8192, 0, 0);
  extent (8, 507904, 4096, 8192, VBM_EXTENT_PAST_EOF);
  want_img (&w[8], 499712, 5000);
  /* 9: past the end of the disk. */
  object (9, 8192, 0);
  extent (9, DISK_SIZE - 4096, 8192, 0, 0);
  /* 10: empty.  11: a symlink.  13: all holes. */
  object (10, 0, 0);
  object (11, 20, VBM_OBJECT_SYMLINK);
  extent (11, 520192, 4096, 0, 0);
  object (13, 100000, 0);
  want_zero (&w[13], 100000);
  /* 12: a tree block without an offset, then data. */
  object (12, 4096, 0);
  extent (12, 524288, 4096, -1, VBM_EXTENT_TREE);
  extent (12, 528384, 4096, 0, 0);
  want_img (&w[12], 528384, 4096);
  sqlite3_close (db);

  src = vbm_source_open (imgpath, "raw", &err);
  assert (src);
  if (vbm_hash_map (mappath, &src, 1, VBM_HASH_ALL, &opts, &stats,
                    &err) == -1) {
    fprintf (stderr, "test-hash-plan: %s\n", err.msg);
    exit (EXIT_FAILURE);
  }
  vbm_source_close (src);

  assert (sqlite3_open (mappath, &db) == SQLITE_OK);
  check (2, &w[2], NULL);
  check (3, &w[3], NULL);
  check (4, &w[4], NULL);
  check (5, NULL, "overlapping extents");
  check (6, NULL, "compressed");
  check (7, &w[7], NULL);
  check (8, &w[8], NULL);
  check (9, NULL, "read error");
  check (10, &w[10], NULL);
  check (11, NULL, NULL);
  check (12, &w[12], NULL);
  check (13, &w[13], NULL);
  check (14, &w[14], NULL);
  check (15, &w[15], NULL);
  check (1, NULL, NULL);
  sqlite3_close (db);
  if (warnings != 1 || stats.warnings != 1) {
    fprintf (stderr, "test-hash-plan: %u warnings, %u counted, want 1\n",
             warnings, stats.warnings);
    failures++;
  }
  /* 3 goes back, 15 came while 2 and 14 were open. */
  if (strstr (debug, ", 2 files in file order afterwards") == NULL) {
    fprintf (stderr, "test-hash-plan: %s\n", debug);
    failures++;
  }
  if (stats.hashed_files != 10 || stats.not_hashed != 3) {
    fprintf (stderr, "test-hash-plan: %llu hashed, %llu not, want 10, 3\n",
             (unsigned long long) stats.hashed_files,
             (unsigned long long) stats.not_hashed);
    failures++;
  }
  for (i = 0; i < 16; ++i)
    free (w[i].p);
  unlink (imgpath);
  unlink (mappath);
  rmdir (dir);
  return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
