/* Writing b-trees straight into an SQLite database file: the file,
 * its pages, records and cells (see dbwrite.h and
 * https://www.sqlite.org/fileformat2.html).
 */
#include <config.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbwrite.h"
#include "full-rw.h"
#include "internal.h"

/* Pages are mostly written in the order they were allocated: they
 * are gathered into runs of up to this many bytes, one write each.
 */
#define RUN_BYTES (256 * 1024)

struct db_file {
  /* Of npages and the run: b-trees are written in parallel. */
  pthread_mutex_t lock;
  int fd;
  unsigned page_size, usable;
  uint32_t npages;              /* pages in the file */
  uint32_t pending_pgno;        /* the lock-byte page SQLite never uses */
  unsigned char *run;           /* pages run_first... not yet written */
  uint32_t run_first, run_len, run_cap;
};

static uint32_t
get_be32 (const unsigned char *p)
{
  return (uint32_t) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

void
db_put_be (unsigned char *p, uint64_t v, int bytes)
{
  uint16_t v16;
  uint32_t v32;

  /* The sizes the pages and R*Tree nodes use, without a loop. */
  switch (bytes) {
  case 2: v16 = __builtin_bswap16 (v); memcpy (p, &v16, 2); return;
  case 4: v32 = __builtin_bswap32 (v); memcpy (p, &v32, 4); return;
  case 8: v = __builtin_bswap64 (v); memcpy (p, &v, 8); return;
  }
  while (bytes-- > 0) {
    p[bytes] = v & 0xff;
    v >>= 8;
  }
}

static int
pwrite_all (struct db_file *f, const void *buf, size_t len, off_t off,
            struct vbm_error *err)
{
  if (full_pwrite (f->fd, buf, len, off) == -1) {
    vbm_set_error (err, errno, "map store: write: %s", strerror (errno));
    return -1;
  }
  return 0;
}

struct db_file *
db_file_open (const char *path, struct vbm_error *err)
{
  unsigned char h[100];
  struct db_file *f;
  struct stat sb;
  ssize_t r;

  f = calloc (1, sizeof *f);
  if (f == NULL) {
    vbm_set_error (err, errno, "calloc: %s", strerror (errno));
    return NULL;
  }
  f->fd = open (path, O_RDWR | O_CLOEXEC);
  if (f->fd == -1) {
    vbm_set_error (err, errno, "map store: %s: %s", path, strerror (errno));
    free (f);
    return NULL;
  }
  r = full_pread (f->fd, h, sizeof h, 0);
  if (r != sizeof h || fstat (f->fd, &sb) == -1 ||
      memcmp (h, "SQLite format 3", 16) != 0) {
    vbm_set_error (err, EIO, "map store: %s: not an SQLite database", path);
    goto fail;
  }
  f->page_size = h[16] << 8 | h[17];
  if (f->page_size == 1)
    f->page_size = 65536;
  f->usable = f->page_size - h[20];
  /* Freshly created by SQLite: whole pages, no free list, and no
   * auto-vacuum (a libsqlite3 built with it on by default), whose
   * pointer-map pages we would not keep.
   */
  if (f->page_size < 512 || (f->page_size & (f->page_size - 1)) ||
      f->usable < 480 || sb.st_size % f->page_size ||
      get_be32 (h + 36) != 0 || get_be32 (h + 52) != 0 ||
      (uint64_t) sb.st_size / f->page_size >= UINT32_MAX / 2) {
    vbm_set_error (err, EIO, "map store: %s: unexpected database layout",
                   path);
    goto fail;
  }
  f->npages = sb.st_size / f->page_size;
  f->pending_pgno = 0x40000000 / f->page_size + 1;
  f->run_cap = RUN_BYTES > f->page_size ? RUN_BYTES / f->page_size : 1;
  f->run = malloc ((size_t) f->run_cap * f->page_size);
  if (f->run == NULL) {
    vbm_set_error (err, errno, "malloc: %s", strerror (errno));
    goto fail;
  }
  pthread_mutex_init (&f->lock, NULL);
  return f;

 fail:
  close (f->fd);
  free (f);
  return NULL;
}

/* Called with the lock held. */
static int
flush_run (struct db_file *f, struct vbm_error *err)
{
  int r = 0;

  if (f->run_len > 0)
    r = pwrite_all (f, f->run, (size_t) f->run_len * f->page_size,
                    (off_t) (f->run_first - 1) * f->page_size, err);
  f->run_len = 0;
  return r;
}

int
db_file_close (struct db_file *f, int discard, struct vbm_error *err)
{
  unsigned char h[100];
  uint32_t counter;
  int r = 0;

  if (!discard && flush_run (f, err) == -1)
    r = -1;
  else if (!discard) {
    /* The page count in the header is trusted only if the change
     * counter equals the version-valid-for number.
     */
    if (full_pread (f->fd, h, sizeof h, 0) != sizeof h) {
      vbm_set_error (err, EIO, "map store: cannot read the header back");
      r = -1;
    }
    else {
      counter = get_be32 (h + 24) + 1;
      db_put_be (h + 24, counter, 4);
      db_put_be (h + 28, f->npages, 4);
      db_put_be (h + 92, counter, 4);
      if (pwrite_all (f, h, sizeof h, 0, err) == -1)
        r = -1;
      else if (ftruncate (f->fd, (off_t) f->npages * f->page_size) == -1) {
        vbm_set_error (err, errno, "map store: truncate: %s",
                       strerror (errno));
        r = -1;
      }
    }
  }
  if (close (f->fd) == -1 && r == 0 && !discard) {
    vbm_set_error (err, errno, "map store: close: %s", strerror (errno));
    r = -1;
  }
  pthread_mutex_destroy (&f->lock);
  free (f->run);
  free (f);
  return r;
}

unsigned
db_file_usable (const struct db_file *f)
{
  return f->usable;
}

static uint32_t
alloc_page (struct db_file *f, struct vbm_error *err)
{
  uint32_t pgno;

  pthread_mutex_lock (&f->lock);
  if (++f->npages == f->pending_pgno)
    ++f->npages;
  pgno = f->npages;
  pthread_mutex_unlock (&f->lock);
  if (pgno >= UINT32_MAX / 2) {
    vbm_set_error (err, EFBIG, "map store: database too large");
    return 0;
  }
  return pgno;
}

static int
write_page (struct db_file *f, uint32_t pgno, const void *buf,
            struct vbm_error *err)
{
  int r = 0;

  pthread_mutex_lock (&f->lock);
  if (f->run_len == 0 || pgno != f->run_first + f->run_len ||
      f->run_len == f->run_cap) {
    r = flush_run (f, err);
    f->run_first = pgno;
  }
  if (r == 0)
    memcpy (f->run + (size_t) f->run_len++ * f->page_size, buf, f->page_size);
  pthread_mutex_unlock (&f->lock);
  return r;
}

/* ---- Records. ---- */

/* SQLite's varint: big-endian groups of 7 bits, the 9th byte all 8. */
static inline unsigned char *
put_varint (unsigned char *p, uint64_t v)
{
  unsigned n, i;

  if (v < 0x80) {
    *p = v;
    return p + 1;
  }
  n = db_varint_len (v);

  if (n == 9) {
    p[8] = v & 0xff;
    v >>= 8;
    for (i = 8; i-- > 0; v >>= 7)
      p[i] = (v & 0x7f) | 0x80;
    return p + 9;
  }
  p[n - 1] = v & 0x7f;
  for (i = n - 1; i-- > 0; )
    p[i] = ((v >>= 7) & 0x7f) | 0x80;
  return p + n;
}

/* Serial type of an integer other than 0 and 1, from the bytes its
 * two's complement needs: 1-4 bytes are types 1-4, 5-6 bytes type 5
 * (6 bytes), 7-8 bytes type 6 (8 bytes).
 */
static const unsigned char int_type_of_bytes[9] = { 0, 1, 2, 3, 4, 5, 5, 6, 6 };
static const unsigned char int_len_of_type[7] = { 0, 1, 2, 3, 4, 6, 8 };

static unsigned
int_type (int64_t v)
{
  /* The magnitude's bits, a sign bit more, rounded up to bytes. */
  uint64_t u = (uint64_t) v ^ (uint64_t) (v >> 63);
  unsigned bits = u ? 64 - __builtin_clzll (u) : 0;

  if ((uint64_t) v <= 1)
    return 8 + v;
  return int_type_of_bytes[bits / 8 + 1];
}

size_t
db_record_bound (const struct db_value *vals, unsigned n)
{
  size_t b = 2 + 9 * (size_t) n;
  unsigned i;

  for (i = 0; i < n; ++i)
    b += vals[i].type == DB_TEXT || vals[i].type == DB_BLOB ? vals[i].n : 8;
  return b;
}

/* Stores the low LEN bytes (a serial type's 1, 2, 3, 4, 6 or 8) of V
 * big-endian, exactly: records are also written straight into pages,
 * next to the cell before.
 */
static inline void
put_be_int (unsigned char *p, uint64_t v, unsigned len)
{
  uint16_t v16;
  uint32_t v32;

  switch (len) {
  case 1: p[0] = v; break;
  case 2: v16 = __builtin_bswap16 (v); memcpy (p, &v16, 2); break;
  case 3: p[0] = v >> 16; v16 = __builtin_bswap16 (v); memcpy (p + 1, &v16, 2);
    break;
  case 4: v32 = __builtin_bswap32 (v); memcpy (p, &v32, 4); break;
  case 6: v16 = __builtin_bswap16 (v >> 32); memcpy (p, &v16, 2);
    v32 = __builtin_bswap32 (v); memcpy (p + 2, &v32, 4); break;
  default: v = __builtin_bswap64 (v); memcpy (p, &v, 8);
  }
}

void
db_record_prepare (const struct db_value *vals, unsigned n,
                   struct db_record *r)
{
  /* The types go after a 1-byte header size, moved on in the rare
   * case of a 2-byte one.
   */
  unsigned char *h = r->hdr + 1;
  size_t body = 0, hlen;
  unsigned i, t;

  assert (n <= DB_MAX_COLUMNS);

  for (i = 0; i < n; ++i) {
    switch (vals[i].type) {
    case DB_INT:
      *h++ = r->types[i] = t = int_type (vals[i].i);
      body += int_len_of_type[t < 8 ? t : 0];
      break;
    case DB_TEXT:
      h = put_varint (h, 2 * (uint64_t) vals[i].n + 13);
      body += vals[i].n;
      break;
    case DB_BLOB:
      h = put_varint (h, 2 * (uint64_t) vals[i].n + 12);
      body += vals[i].n;
      break;
    default: *h++ = 0;
    }
  }
  /* The header's size counts its own varint: 1 byte up to 126 bytes
   * of types, else 2.
   */
  hlen = h - (r->hdr + 1);
  if (hlen + 1 < 0x80)
    r->hdr[0] = ++hlen;
  else {
    memmove (r->hdr + 2, r->hdr + 1, hlen);
    hlen += 2;
    put_varint (r->hdr, hlen);
  }
  r->hlen = hlen;
  r->len = hlen + body;
}

void
db_record_write (const struct db_record *r, const struct db_value *vals,
                 unsigned n, unsigned char *out)
{
  unsigned char *p = out + r->hlen;
  unsigned i, t;

  memcpy (out, r->hdr, r->hlen);
  for (i = 0; i < n; ++i) {
    switch (vals[i].type) {
    case DB_INT:
      t = r->types[i];
      if (t < 8) {
        put_be_int (p, (uint64_t) vals[i].i, int_len_of_type[t]);
        p += int_len_of_type[t];
      }
      break;
    case DB_TEXT:
    case DB_BLOB:
      if (vals[i].n > 0)
        memcpy (p, vals[i].p, vals[i].n);
      p += vals[i].n;
      break;
    default:
      break;
    }
  }
}

size_t
db_record_encode (const struct db_value *vals, unsigned n,
                  unsigned char *out)
{
  struct db_record r;

  db_record_prepare (vals, n, &r);
  db_record_write (&r, vals, n, out);
  return r.len;
}

/* ---- Pages and cells. ---- */

static int
is_leaf (unsigned type)
{
  return type == DB_TABLE_LEAF || type == DB_INDEX_LEAF;
}

int
db_page_init (struct db_file *f, struct db_page *pg, unsigned type,
              struct vbm_error *err)
{
  pg->buf = malloc (f->page_size);
  if (pg->buf == NULL) {
    vbm_set_error (err, errno, "malloc: %s", strerror (errno));
    return -1;
  }
  pg->type = type;
  pg->hdr = is_leaf (type) ? 8 : 12;
  memset (pg->buf, 0, f->page_size);
  db_page_reset (f, pg);
  return 0;
}

void
db_page_reset (struct db_file *f, struct db_page *pg)
{
  /* The header, the cells and their pointers are all written; the gap
   * between them is zeroed when the page is written.  The reserved
   * bytes past the usable size stay as db_page_init zeroed them.
   */
  pg->ncells = 0;
  pg->content = f->usable;
}

void
db_page_free (struct db_page *pg)
{
  free (pg->buf);
  pg->buf = NULL;
}

unsigned
db_page_room (const struct db_page *pg)
{
  return pg->content - pg->hdr - 2 * pg->ncells;
}

/* How much of a payload of LEN bytes stays in the page. */
static size_t
local_size (const struct db_file *f, unsigned type, size_t len)
{
  size_t u = f->usable;
  size_t x = type == DB_TABLE_LEAF ? u - 35 : (u - 12) * 64 / 255 - 23;
  size_t m = (u - 12) * 32 / 255 - 23, k;

  if (len <= x)
    return len;
  k = m + (len - m) % (u - 4);
  return k <= x ? k : m;
}

size_t
db_cell_size (const struct db_file *f, unsigned type, int64_t rowid,
              size_t len)
{
  size_t s, local;

  if (type == DB_TABLE_INTERIOR)
    s = 4 + db_varint_len (rowid);
  else {
    local = local_size (f, type, len);
    s = (is_leaf (type) ? 0 : 4) + db_varint_len (len) +
      (type == DB_TABLE_LEAF ? db_varint_len (rowid) : 0) +
      local + (local < len ? 4 : 0);
  }
  /* SQLite never gives a cell less than 4 bytes. */
  return (s < 4 ? 4 : s) + 2;
}

/* Writes the payload's tail into a chain of overflow pages and
 * returns the first one.
 */
static uint32_t
write_overflow (struct db_file *f, const unsigned char *p, size_t len,
                struct vbm_error *err)
{
  size_t per = f->usable - 4, n;
  unsigned char *buf;
  uint32_t first, pgno, next;

  buf = calloc (1, f->page_size);
  if (buf == NULL) {
    vbm_set_error (err, errno, "calloc: %s", strerror (errno));
    return 0;
  }
  first = pgno = alloc_page (f, err);
  while (pgno) {
    n = len < per ? len : per;
    next = len > per ? alloc_page (f, err) : 0;
    if (len > per && next == 0) {
      pgno = 0;
      break;
    }
    db_put_be (buf, next, 4);
    memcpy (buf + 4, p, n);
    memset (buf + 4 + n, 0, per - n);
    if (write_page (f, pgno, buf, err) == -1) {
      pgno = 0;
      break;
    }
    p += n, len -= n;
    if (next == 0)
      break;
    pgno = next;
  }
  free (buf);
  return pgno ? first : 0;
}

int
db_page_add (struct db_file *f, struct db_page *pg, uint32_t child,
             int64_t rowid, const unsigned char *payload, size_t len,
             struct vbm_error *err)
{
  size_t size, local = 0;
  unsigned char *q;
  uint32_t ovfl;

  /* As db_cell_size, computing the local part once. */
  if (pg->type == DB_TABLE_INTERIOR)
    size = 4 + db_varint_len (rowid);
  else {
    local = local_size (f, pg->type, len);
    size = (is_leaf (pg->type) ? 0 : 4) + db_varint_len (len) +
      (pg->type == DB_TABLE_LEAF ? db_varint_len (rowid) : 0) +
      local + (local < len ? 4 : 0);
  }
  if (size < 4)
    size = 4;
  pg->content -= size;
  q = pg->buf + pg->content;
  db_put_be (pg->buf + pg->hdr + 2 * pg->ncells++, pg->content, 2);
  if (!is_leaf (pg->type)) {
    db_put_be (q, child, 4);
    q += 4;
  }
  if (pg->type == DB_TABLE_INTERIOR) {
    put_varint (q, rowid);
    return 0;
  }
  q = put_varint (q, len);
  if (pg->type == DB_TABLE_LEAF)
    q = put_varint (q, rowid);
  memcpy (q, payload, local);
  if (local < len) {
    ovfl = write_overflow (f, payload + local, len - local, err);
    if (ovfl == 0)
      return -1;
    db_put_be (q + local, ovfl, 4);
  }
  return 0;
}

int
db_page_add_row (struct db_file *f, struct db_page *pg, int64_t rowid,
                 const struct db_record *r, const struct db_value *vals,
                 unsigned n)
{
  size_t size;
  unsigned char *q;

  if (pg->type != DB_TABLE_LEAF || r->len > f->usable - 35)
    return -1;
  size = db_varint_len (r->len) + db_varint_len (rowid) + r->len;
  if (size < 4)
    size = 4;
  if (size + 2 > db_page_room (pg))
    return 1;
  pg->content -= size;
  q = pg->buf + pg->content;
  db_put_be (pg->buf + pg->hdr + 2 * pg->ncells++, pg->content, 2);
  q = put_varint (q, r->len);
  q = put_varint (q, rowid);
  db_record_write (r, vals, n, q);
  return 0;
}

uint32_t
db_page_write (struct db_file *f, struct db_page *pg, uint32_t right_child,
               uint32_t pgno, struct vbm_error *err)
{
  unsigned char *h = pg->buf;

  if (pgno == 0 && (pgno = alloc_page (f, err)) == 0)
    return 0;
  memset (h + pg->hdr + 2 * pg->ncells, 0,
          pg->content - pg->hdr - 2 * pg->ncells);
  h[0] = pg->type;
  db_put_be (h + 1, 0, 2);                 /* no free blocks */
  db_put_be (h + 3, pg->ncells, 2);
  db_put_be (h + 5, pg->content == 65536 ? 0 : pg->content, 2);
  h[7] = 0;                             /* no fragmented bytes */
  if (!is_leaf (pg->type))
    db_put_be (h + 8, right_child, 4);
  if (write_page (f, pgno, h, err) == -1)
    return 0;
  return pgno;
}
