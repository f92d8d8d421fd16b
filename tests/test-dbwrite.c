/* Unit test of the map store's SQLite file writer (lib/dbwrite.c,
 * dbtable.c, dbindex.c, store-keys.c, rtree-write.c), with SQLite as
 * the oracle: SQLite creates each database, we fill its b-trees, then
 * SQLite must find the file intact (integrity_check, rtreecheck), read
 * back every value, order every index as its own sorter does, find
 * every row through each index, and keep the file intact while it
 * modifies it.
 *
 * Seeds: a fixed one, and VBM_TEST_SEED from the environment if set.
 * VBM_TEST_TMPDIR (else TMPDIR, else /tmp) holds the scratch files,
 * one of which briefly reaches 1 GiB (sparse-free, page cache only).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "dbwrite.h"
#include "internal.h"
#include "rtree-write.h"
#include "store-keys.h"

static char dir[4096];
static struct timespec t0;
static char dbpath[4200];
static const char *what = "";   /* the case being run, for messages */

#define CHECK(cond)                                                     \
  do {                                                                  \
    if (!(cond)) {                                                      \
      fprintf (stderr, "test-dbwrite: %s:%d: [%s] check failed: %s\n",  \
               __FILE__, __LINE__, what, #cond);                        \
      exit (EXIT_FAILURE);                                              \
    }                                                                   \
  } while (0)

static void __attribute__ ((noreturn, format (printf, 1, 2)))
die (const char *fs, ...)
{
  va_list args;

  fprintf (stderr, "test-dbwrite: [%s] ", what);
  va_start (args, fs);
  vfprintf (stderr, fs, args);
  va_end (args);
  fputc ('\n', stderr);
  exit (EXIT_FAILURE);
}

/* Seconds since the start, for the log. */
static double
elapsed (void)
{
  struct timespec t;

  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9;
}

/* ---- Random numbers (splitmix64): reproducible from the seed. ---- */

static uint64_t rng;

static uint64_t
rnd (void)
{
  uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static uint64_t
rnd_below (uint64_t n)
{
  return n ? rnd () % n : 0;
}

/* A random number of random magnitude, at most 64 - MIN bits.  (One
 * call per statement: the order the operands of an expression are
 * evaluated in is unspecified, and the seed must reproduce the data.)
 */
static uint64_t
rnd_shifted (unsigned min)
{
  uint64_t v = rnd ();

  return v >> (min + rnd_below (64 - min));
}

/* Integers at every serial-type and varint boundary. */
static const int64_t boundary_ints[] = {
  0, 1, -1, 2, 127, 128, -128, -129, 255, 256, 32767, 32768, -32768, -32769,
  8388607, 8388608, -8388608, -8388609, INT32_MAX, (int64_t) INT32_MAX + 1,
  INT32_MIN, (int64_t) INT32_MIN - 1, 140737488355327LL, 140737488355328LL,
  -140737488355328LL, -140737488355329LL, INT64_MAX, INT64_MIN,
  INT64_MAX - 1, INT64_MIN + 1,
  /* varint lengths: 2^(7k) - 1 and 2^(7k) */
  16383, 16384, 2097151, 2097152, 268435455, 268435456,
  34359738367LL, 34359738368LL, 4398046511103LL, 4398046511104LL,
  562949953421311LL, 562949953421312LL, 72057594037927935LL,
  72057594037927936LL,
};
#define NR_BOUNDARY (sizeof boundary_ints / sizeof boundary_ints[0])

static int64_t
rnd_int (void)
{
  switch (rnd_below (4)) {
  case 0: return boundary_ints[rnd_below (NR_BOUNDARY)];
  case 1: return (int64_t) rnd_below (1000) - 500;
  case 2: return (int64_t) rnd_shifted (0);
  default: return -(int64_t) rnd_shifted (1);
  }
}

/* Text of N bytes, never NUL, often 0x80-0xff; from a few prefixes so
 * that many entries share their start or are prefixes of each other.
 */
static char *
rnd_text (size_t n)
{
  static const char *const prefixes[] = {
    "", "a", "ab", "abc", "\x80", "\xff", "\xff\xff", "/usr/share/doc/",
  };
  const char *pre = prefixes[rnd_below (8)];
  char *s = malloc (n + 1);
  size_t i, lp = strlen (pre);

  if (s == NULL)
    die ("malloc");
  for (i = 0; i < n; ++i)
    s[i] = i < lp ? pre[i] : (char) (rnd_below (4) ? 'a' + rnd_below (3)
                                     : 1 + rnd_below (255));
  s[n] = 0;
  return s;
}

/* ---- SQLite helpers. ---- */

static void exec (sqlite3 *db, const char *sql);

static sqlite3 *
open_db (void)
{
  sqlite3 *db;

  if (sqlite3_open (dbpath, &db) != SQLITE_OK)
    die ("open %s: %s", dbpath, sqlite3_errmsg (db));
  /* Scratch files: no syncs. */
  exec (db, "PRAGMA synchronous = OFF; PRAGMA journal_mode = MEMORY");
  return db;
}

static void
exec (sqlite3 *db, const char *sql)
{
  char *msg = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    die ("%s: %s", sql, msg);
}

static sqlite3_stmt *
prepare (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *s;

  if (sqlite3_prepare_v2 (db, sql, -1, &s, NULL) != SQLITE_OK)
    die ("%s: %s", sql, sqlite3_errmsg (db));
  return s;
}

static int64_t
query_int (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *s = prepare (db, sql);
  int64_t v;

  if (sqlite3_step (s) != SQLITE_ROW)
    die ("%s: no row: %s", sql, sqlite3_errmsg (db));
  v = sqlite3_column_int64 (s, 0);
  sqlite3_finalize (s);
  return v;
}

static uint32_t
root_of (sqlite3 *db, const char *name)
{
  char sql[200];
  int64_t r;

  snprintf (sql, sizeof sql,
            "SELECT rootpage FROM sqlite_schema WHERE name = '%s'", name);
  r = query_int (db, sql);
  CHECK (r > 1);
  return r;
}

/* Every line of integrity_check, of which there must be one: "ok". */
static void
check_integrity (sqlite3 *db)
{
  sqlite3_stmt *s = prepare (db, "PRAGMA integrity_check");
  unsigned lines = 0;
  int ok = 0;

  while (sqlite3_step (s) == SQLITE_ROW) {
    const char *m = (const char *) sqlite3_column_text (s, 0);

    ++lines;
    if (strcmp (m, "ok") == 0)
      ok = 1;
    else if (lines <= 20)
      fprintf (stderr, "integrity_check: %s\n", m);
  }
  sqlite3_finalize (s);
  CHECK (ok && lines == 1);
}

/* The levels of a b-tree, from dbstat: its root is at path "/", a
 * child of it at "/000/", and so on; overflow pages don't count.
 */
static int
tree_depth (sqlite3 *db, const char *name)
{
  char sql[300];

  snprintf (sql, sizeof sql,
            "SELECT max(length(path) - length(replace(path, '/', '')))"
            " FROM dbstat WHERE name = '%s' AND pagetype != 'overflow'", name);
  return query_int (db, sql);
}

/* Creates the database with SQL, page size PS and RESERVE bytes at the
 * end of each page (so usable < page size).
 */
static void
create_db (unsigned ps, int reserve, const char *sql)
{
  sqlite3 *db;
  char pragma[100];

  unlink (dbpath);
  db = open_db ();
  snprintf (pragma, sizeof pragma, "PRAGMA page_size = %u", ps);
  exec (db, pragma);
  if (reserve &&
      sqlite3_file_control (db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve)
      != SQLITE_OK)
    die ("SQLITE_FCNTL_RESERVE_BYTES");
  exec (db, sql);
  sqlite3_close (db);
}

static struct db_file *
file_open (void)
{
  struct vbm_error err = { 0 };
  struct db_file *f = db_file_open (dbpath, &err);

  if (f == NULL)
    die ("db_file_open: %s", err.msg);
  return f;
}

static void
file_close (struct db_file *f)
{
  struct vbm_error err = { 0 };

  if (db_file_close (f, 0, &err) == -1)
    die ("db_file_close: %s", err.msg);
}

/* Two values of a result column the same (type and bytes)? */
static int
same_value (sqlite3_value *a, sqlite3_value *b)
{
  int t = sqlite3_value_type (a);
  int n;

  if (t != sqlite3_value_type (b))
    return 0;
  switch (t) {
  case SQLITE_NULL: return 1;
  case SQLITE_INTEGER: return sqlite3_value_int64 (a) == sqlite3_value_int64 (b);
  case SQLITE_FLOAT: return sqlite3_value_double (a) == sqlite3_value_double (b);
  default:
    n = sqlite3_value_bytes (a);
    /* (An empty value's pointer may be NULL.) */
    return n == sqlite3_value_bytes (b) &&
      (n == 0 ||
       memcmp (sqlite3_value_blob (a), sqlite3_value_blob (b), n) == 0);
  }
}

/* Index IDX of TABLE on the columns COLS ("a, b"): a scan of the index
 * returns exactly what SQLite's own sort of the table returns, and an
 * equality lookup through the index finds each group of equal keys.
 * Returns the number of entries.
 */
static size_t
check_index (sqlite3 *db, const char *table, const char *idx,
             const char *cols, unsigned ncols)
{
  char sql[1000], where[500] = "";
  sqlite3_stmt *by_idx, *sorted, *lookup, *plan;
  sqlite3_value *key[8] = { NULL };
  int64_t *group = NULL;
  size_t ngroup = 0, cap = 0, n = 0, i;
  unsigned c;
  int r1, r2;

  CHECK (ncols < 8);
  snprintf (sql, sizeof sql,
            "SELECT %s, rowid FROM %s INDEXED BY %s ORDER BY %s, rowid",
            cols, table, idx, cols);
  by_idx = prepare (db, sql);
  /* The order must come from the index, not from a sorter. */
  {
    char eqp[1100];

    snprintf (eqp, sizeof eqp, "EXPLAIN QUERY PLAN %s", sql);
    plan = prepare (db, eqp);
    while (sqlite3_step (plan) == SQLITE_ROW)
      CHECK (strstr ((const char *) sqlite3_column_text (plan, 3),
                     "TEMP B-TREE") == NULL);
    sqlite3_finalize (plan);
  }
  snprintf (sql, sizeof sql,
            "SELECT %s, rowid FROM %s NOT INDEXED ORDER BY %s, rowid",
            cols, table, cols);
  sorted = prepare (db, sql);
  {
    /* "a IS ?1 AND b IS ?2" */
    char copy[200], *save = NULL, *tok;
    size_t len = 0;

    snprintf (copy, sizeof copy, "%s", cols);
    for (c = 1, tok = strtok_r (copy, ", ", &save); tok;
         tok = strtok_r (NULL, ", ", &save), ++c)
      len += snprintf (where + len, sizeof where - len, "%s%s IS ?%u",
                       c > 1 ? " AND " : "", tok, c);
    CHECK (c - 1 == ncols);
  }
  snprintf (sql, sizeof sql,
            "SELECT rowid FROM %s INDEXED BY %s WHERE %s ORDER BY rowid",
            table, idx, where);
  lookup = prepare (db, sql);

  for (;;) {
    int new_group;

    r1 = sqlite3_step (by_idx);
    r2 = sqlite3_step (sorted);
    CHECK (r1 == r2);
    if (r1 != SQLITE_ROW) {
      CHECK (r1 == SQLITE_DONE);
      new_group = 1;
    }
    else {
      ++n;
      for (c = 0; c <= ncols; ++c)
        if (!same_value (sqlite3_column_value (by_idx, c),
                         sqlite3_column_value (sorted, c)))
          die ("%s: entry %zu differs from SQLite's sort in column %u",
               idx, n, c);
      new_group = key[0] == NULL;
      for (c = 0; c < ncols && !new_group; ++c)
        if (!same_value (key[c], sqlite3_column_value (sorted, c)))
          new_group = 1;
    }
    if (new_group && key[0]) {
      /* Look the previous group up through the index. */
      for (c = 0; c < ncols; ++c)
        sqlite3_bind_value (lookup, c + 1, key[c]);
      for (i = 0; sqlite3_step (lookup) == SQLITE_ROW; ++i) {
        CHECK (i < ngroup);
        CHECK (sqlite3_column_int64 (lookup, 0) == group[i]);
      }
      CHECK (i == ngroup);
      sqlite3_reset (lookup);
      for (c = 0; c < ncols; ++c) {
        sqlite3_value_free (key[c]);
        key[c] = NULL;
      }
      ngroup = 0;
    }
    if (r1 != SQLITE_ROW)
      break;
    if (new_group)
      for (c = 0; c < ncols; ++c)
        key[c] = sqlite3_value_dup (sqlite3_column_value (sorted, c));
    if (ngroup == cap) {
      cap = cap ? 2 * cap : 16;
      group = realloc (group, cap * sizeof *group);
      if (group == NULL)
        die ("realloc");
    }
    group[ngroup++] = sqlite3_column_int64 (sorted, ncols);
  }
  sqlite3_finalize (by_idx);
  sqlite3_finalize (sorted);
  sqlite3_finalize (lookup);
  free (group);
  return n;
}

/* ---- Record sizes, to aim payloads at the overflow thresholds. ---- */

static size_t
varint_size (uint64_t v)
{
  size_t n = 1;

  if (v >> 56)
    return 9;
  while (v >>= 7)
    ++n;
  return n;
}

/* Serial type and body size of V (fileformat2.html, 2.1). */
static size_t
value_size (const struct db_value *v, size_t *hdr)
{
  int64_t i = v->i;
  size_t body;

  switch (v->type) {
  case DB_NULL: *hdr += 1; return 0;
  case DB_INT:
    *hdr += 1;
    if (i == 0 || i == 1) body = 0;
    else if (i >= -128 && i < 128) body = 1;
    else if (i >= -32768 && i < 32768) body = 2;
    else if (i >= -8388608 && i < 8388608) body = 3;
    else if (i >= INT32_MIN && i <= INT32_MAX) body = 4;
    else if (i >= -(1LL << 47) && i < (1LL << 47)) body = 6;
    else body = 8;
    return body;
  default:
    *hdr += varint_size (2 * v->n + 13);
    return v->n;
  }
}

static size_t
record_size (const struct db_value *v, unsigned n)
{
  size_t hdr = 0, body = 0;
  unsigned i;

  for (i = 0; i < n; ++i)
    body += value_size (&v[i], &hdr);
  hdr += hdr + 1 < 128 ? 1 : 2;
  return hdr + body;
}

/* ---- A rowid table with two indexes, filled by us. ---- */

struct row {
  int64_t rowid, i, j;
  int j_null, u_null;
  char *s, *u;
  size_t slen, ulen;
  unsigned char *b;
  size_t blen;
};

#define TABLE_SQL                                                       \
  "CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER NOT NULL,"         \
  " j INTEGER, s TEXT NOT NULL, u TEXT, b BLOB);"                       \
  "CREATE INDEX t_su ON t (s, u);"                                      \
  "CREATE INDEX t_ij ON t (i, j);"

static unsigned
row_values (const struct row *r, struct db_value *v)
{
  v[0] = DB_NULLV;              /* the INTEGER PRIMARY KEY is the rowid */
  v[1] = DB_INTV (r->i);
  v[2] = r->j_null ? DB_NULLV : DB_INTV (r->j);
  v[3] = DB_TEXTV (r->s, r->slen);
  v[4] = r->u_null ? DB_NULLV : DB_TEXTV (r->u, r->ulen);
  v[5] = DB_BLOBV (r->b, r->blen);
  return 6;
}

static unsigned
su_values (const struct row *r, struct db_value *v)
{
  v[0] = DB_TEXTV (r->s, r->slen);
  v[1] = r->u_null ? DB_NULLV : DB_TEXTV (r->u, r->ulen);
  v[2] = DB_INTV (r->rowid);
  return 3;
}

/* The entries of an index, sorted by the test's comparison. */
struct sorted_index {
  const struct row *rows;
  size_t *order;
  int which;                    /* 0: t_su, 1: t_ij */
};

static int
cmp_bytes (const char *a, size_t la, const char *b, size_t lb)
{
  int c = memcmp (a, b, la < lb ? la : lb);

  return c ? c : la < lb ? -1 : la > lb;
}

static const struct row *sort_rows;
static int sort_which;

static int
cmp_entries (const void *av, const void *bv)
{
  const struct row *a = &sort_rows[*(const size_t *) av];
  const struct row *b = &sort_rows[*(const size_t *) bv];
  int c;

  if (sort_which == 0) {
    if ((c = cmp_bytes (a->s, a->slen, b->s, b->slen)))
      return c;
    if (a->u_null != b->u_null)
      return a->u_null ? -1 : 1;
    if (!a->u_null && (c = cmp_bytes (a->u, a->ulen, b->u, b->ulen)))
      return c;
  }
  else {
    if (a->i != b->i)
      return a->i < b->i ? -1 : 1;
    if (a->j_null != b->j_null)
      return a->j_null ? -1 : 1;
    if (!a->j_null && a->j != b->j)
      return a->j < b->j ? -1 : 1;
  }
  return a->rowid < b->rowid ? -1 : a->rowid > b->rowid;
}

static unsigned
index_entry (void *opaque, size_t k, struct db_value *v)
{
  struct sorted_index *si = opaque;
  const struct row *r = &si->rows[si->order[k]];

  if (si->which == 0)
    return su_values (r, v);
  v[0] = DB_INTV (r->i);
  v[1] = r->j_null ? DB_NULLV : DB_INTV (r->j);
  v[2] = DB_INTV (r->rowid);
  return 3;
}

/* Sets R's text S so that the table record (or with FOR_INDEX the t_su
 * entry) is PAYLOAD bytes long, if some length gives exactly that.
 */
static void
aim_payload (struct row *r, size_t payload, int for_index)
{
  struct db_value v[6];
  size_t n, lo = 0, hi = payload;
  unsigned nv;

  free (r->s);
  r->s = NULL;
  /* The size grows with the length: bisect. */
  while (lo < hi) {
    n = lo + (hi - lo) / 2;
    r->slen = n;
    nv = for_index ? su_values (r, v) : row_values (r, v);
    if (record_size (v, nv) < payload)
      lo = n + 1;
    else
      hi = n;
  }
  r->slen = lo;
  r->s = rnd_text (lo);
}

struct table_case {
  const char *name;
  unsigned page_size;
  int reserve;
  size_t nrows;
  int min_depth, max_depth;     /* of the table and of t_su */
  int short_rows;               /* none aimed at the thresholds */
};

static void
free_rows (struct row *rows, size_t n)
{
  size_t k;

  for (k = 0; k < n; ++k) {
    free (rows[k].s);
    free (rows[k].u);
    free (rows[k].b);
  }
  free (rows);
}

/* Rowids: increasing, with gaps of every size, from INT64_MIN (or a
 * negative number) up to INT64_MAX.
 */
static void
make_rowids (struct row *rows, size_t n)
{
  size_t k;
  int64_t id;

  if (n == 0)
    return;
  id = n > 2 ? INT64_MIN : -3;
  for (k = 0; k < n; ++k) {
    uint64_t room = (uint64_t) INT64_MAX - (uint64_t) id;
    uint64_t left = n - k;
    uint64_t step;

    if (k == n - 1 && n > 2) {
      rows[k].rowid = INT64_MAX;
      break;
    }
    rows[k].rowid = id;
    /* Mostly small steps; now and then a jump over a varint size. */
    switch (rnd_below (8)) {
    case 0: step = room / left / 2 + 1; break;
    case 1: step = 1 + rnd_below (1 << 20); break;
    default: step = 1 + rnd_below (3);
    }
    if (step > room / left)
      step = room / left > 0 ? room / left : 1;
    /* Pass through zero and the small positives too. */
    if (id < -1000 && k == n / 2)
      step = (uint64_t) -id - 5;
    id += step;
  }
}

static void
make_rows (struct row *rows, size_t n, unsigned usable, int short_rows)
{
  const size_t xt = usable - 35, xi = (usable - 12) * 64 / 255 - 23;
  const size_t m = (usable - 12) * 32 / 255 - 23, per = usable - 4;
  /* Payload sizes at and around every overflow threshold (table
   * leaves xt, index cells xi; where the local part switches between
   * the minimum m and the remainder), and several pages long.
   */
  const size_t table_aims[] = {
    xt - 1, xt, xt + 1, xt + per, xt + per + 1, m + per, m + per - 1,
    m + per + 1, xt + 2 * per + 1, m + 3 * per, 5 * usable + 17,
  };
  const size_t index_aims[] = {
    xi - 1, xi, xi + 1, xi + per, xi + per + 1, m + per - 1, m + per,
    m + per + 1, m + 2 * per, 4 * usable + 3,
  };
  size_t k, a;

  make_rowids (rows, n);
  for (k = 0; k < n; ++k) {
    struct row *r = &rows[k];

    r->i = rnd_int ();
    r->j_null = rnd_below (3) == 0;
    r->j = r->j_null ? 0 : rnd_int ();
    r->u_null = rnd_below (3) == 0;
    r->ulen = r->u_null ? 0 : rnd_below (4) ? rnd_below (12) : 0;
    r->u = r->u_null ? NULL : rnd_text (r->ulen);
    r->blen = rnd_below (4) ? rnd_below (20) : 0;
    r->b = malloc (r->blen + 1);
    for (a = 0; a < r->blen; ++a)
      r->b[a] = rnd ();
    /* Some texts repeat an earlier one: equal keys, told by rowid. */
    if (k > 0 && rnd_below (8) == 0) {
      const struct row *o = &rows[rnd_below (k)];

      r->slen = o->slen;
      r->s = malloc (o->slen + 1);
      memcpy (r->s, o->s, o->slen + 1);
      if (rnd_below (2)) {
        free (r->u);
        r->u_null = o->u_null;
        r->ulen = o->ulen;
        r->u = o->u_null ? NULL : strdup (o->u);
      }
    }
    else {
      switch (short_rows ? 9 : rnd_below (10)) {
      case 0:
        aim_payload (r, table_aims[rnd_below (sizeof table_aims /
                                              sizeof table_aims[0])], 0);
        break;
      case 1:
        aim_payload (r, index_aims[rnd_below (sizeof index_aims /
                                              sizeof index_aims[0])], 1);
        break;
      default:
        r->slen = rnd_below (3) ? rnd_below (40) : rnd_below (300);
        r->s = rnd_text (r->slen);
      }
    }
  }
  /* Every aim at least once, whatever the dice said. */
  for (a = 0; short_rows && a < NR_BOUNDARY && a < n; ++a)
    rows[a].i = boundary_ints[a];
  if (short_rows)
    return;
  for (a = 0; a < sizeof table_aims / sizeof table_aims[0] && a < n; ++a)
    aim_payload (&rows[(a * 7919) % n], table_aims[a], 0);
  for (a = 0; a < sizeof index_aims / sizeof index_aims[0] && a < n; ++a)
    aim_payload (&rows[(a * 104729 + n / 2) % n], index_aims[a], 1);
  /* And the integers at every boundary, in both indexed columns. */
  for (a = 0; a < NR_BOUNDARY && a < n; ++a) {
    rows[(a * 31 + 5) % n].i = boundary_ints[a];
    rows[(a * 37 + 11) % n].j = boundary_ints[NR_BOUNDARY - 1 - a];
    rows[(a * 37 + 11) % n].j_null = 0;
  }
}

static void
write_table (struct db_file *f, uint32_t root, const struct row *rows,
             size_t n)
{
  struct vbm_error err = { 0 };
  struct db_table *t = db_table_new (f, root, &err);
  struct db_value v[DB_MAX_COLUMNS];
  size_t k;

  if (t == NULL)
    die ("db_table_new: %s", err.msg);
  for (k = 0; k < n; ++k)
    if (db_table_append (t, rows[k].rowid, v, row_values (&rows[k], v),
                         &err) == -1)
      die ("db_table_append: %s", err.msg);
  if (db_table_finish (t, &err) == -1)
    die ("db_table_finish: %s", err.msg);
}

static void
write_index (struct db_file *f, uint32_t root, const struct row *rows,
             size_t n, int which)
{
  struct vbm_error err = { 0 };
  struct sorted_index si = { .rows = rows, .which = which };
  size_t k;

  si.order = malloc ((n + 1) * sizeof *si.order);
  for (k = 0; k < n; ++k)
    si.order[k] = k;
  sort_rows = rows;
  sort_which = which;
  qsort (si.order, n, sizeof *si.order, cmp_entries);
  if (db_index_write (f, root, n, index_entry, &si, &err) == -1)
    die ("db_index_write: %s", err.msg);
  free (si.order);
}

/* (Empty values may have NULL pointers.) */
static int
same_bytes (const void *a, const void *b, size_t n)
{
  return n == 0 || memcmp (a, b, n) == 0;
}

/* Every row reads back as written, by a scan and by rowid. */
static void
check_rows (sqlite3 *db, const struct row *rows, size_t n)
{
  sqlite3_stmt *scan = prepare (db, "SELECT rowid, id, i, j, s, u, b FROM t"
                                " ORDER BY rowid");
  sqlite3_stmt *get = prepare (db, "SELECT i, length(CAST(s AS BLOB)) FROM t"
                               " WHERE rowid = ?");
  size_t k;

  for (k = 0; k < n; ++k) {
    const struct row *r = &rows[k];

    CHECK (sqlite3_step (scan) == SQLITE_ROW);
    CHECK (sqlite3_column_int64 (scan, 0) == r->rowid);
    CHECK (sqlite3_column_type (scan, 1) == SQLITE_INTEGER);
    CHECK (sqlite3_column_int64 (scan, 1) == r->rowid);
    CHECK (sqlite3_column_type (scan, 2) == SQLITE_INTEGER);
    CHECK (sqlite3_column_int64 (scan, 2) == r->i);
    if (r->j_null)
      CHECK (sqlite3_column_type (scan, 3) == SQLITE_NULL);
    else {
      CHECK (sqlite3_column_type (scan, 3) == SQLITE_INTEGER);
      CHECK (sqlite3_column_int64 (scan, 3) == r->j);
    }
    CHECK (sqlite3_column_type (scan, 4) == SQLITE_TEXT);
    CHECK ((size_t) sqlite3_column_bytes (scan, 4) == r->slen);
    CHECK (same_bytes (sqlite3_column_blob (scan, 4), r->s, r->slen));
    if (r->u_null)
      CHECK (sqlite3_column_type (scan, 5) == SQLITE_NULL);
    else {
      CHECK (sqlite3_column_type (scan, 5) == SQLITE_TEXT);
      CHECK ((size_t) sqlite3_column_bytes (scan, 5) == r->ulen);
      CHECK (same_bytes (sqlite3_column_blob (scan, 5), r->u, r->ulen));
    }
    CHECK (sqlite3_column_type (scan, 6) == SQLITE_BLOB);
    CHECK ((size_t) sqlite3_column_bytes (scan, 6) == r->blen);
    CHECK (same_bytes (sqlite3_column_blob (scan, 6), r->b, r->blen));

    /* Down the interior pages to this row, and to the gap after it. */
    sqlite3_bind_int64 (get, 1, r->rowid);
    CHECK (sqlite3_step (get) == SQLITE_ROW);
    CHECK (sqlite3_column_int64 (get, 0) == r->i);
    CHECK ((size_t) sqlite3_column_int64 (get, 1) == r->slen);
    sqlite3_reset (get);
    if (r->rowid < INT64_MAX &&
        (k + 1 == n || rows[k + 1].rowid != r->rowid + 1)) {
      sqlite3_bind_int64 (get, 1, r->rowid + 1);
      CHECK (sqlite3_step (get) == SQLITE_DONE);
      sqlite3_reset (get);
    }
  }
  CHECK (sqlite3_step (scan) == SQLITE_DONE);
  sqlite3_finalize (scan);
  sqlite3_finalize (get);
  CHECK ((size_t) query_int (db, "SELECT count(*) FROM t") == n);
}

/* SQLite changes the file after us, as the store does with its small
 * rows: the file stays intact and the indexes stay consistent.
 */
static void
modify_table (sqlite3 *db, size_t n)
{
  exec (db, "INSERT INTO t (i, j, s, u, b)"
        " SELECT i + 1, j, s || 'x', u, b FROM t WHERE rowid % 7 = 2;"
        "UPDATE t SET s = s || zeroblob(0) || printf('%.*c', 3000, 'y')"
        " WHERE rowid % 11 = 3;"
        "UPDATE t SET s = substr(s, 1, 3), u = NULL WHERE rowid % 13 = 4;"
        "DELETE FROM t WHERE rowid % 5 = 1;"
        "INSERT INTO t (id, i, s) VALUES (1234567, 5, 'inserted');");
  check_integrity (db);
  check_index (db, "t", "t_su", "s, u", 2);
  check_index (db, "t", "t_ij", "i, j", 2);
  if (n < 3000) {
    exec (db, "VACUUM");
    check_integrity (db);
  }
}

static void
run_table_case (const struct table_case *tc)
{
  struct row *rows = calloc (tc->nrows + 1, sizeof *rows);
  uint32_t root_t, root_su, root_ij;
  struct db_file *f;
  sqlite3 *db;
  int d, di, dj;

  what = tc->name;
  create_db (tc->page_size, tc->reserve, TABLE_SQL);
  db = open_db ();
  root_t = root_of (db, "t");
  root_su = root_of (db, "t_su");
  root_ij = root_of (db, "t_ij");
  sqlite3_close (db);

  f = file_open ();
  CHECK (db_file_usable (f) == tc->page_size - tc->reserve);
  make_rows (rows, tc->nrows, db_file_usable (f), tc->short_rows);
  write_table (f, root_t, rows, tc->nrows);
  write_index (f, root_su, rows, tc->nrows, 0);
  write_index (f, root_ij, rows, tc->nrows, 1);
  file_close (f);

  db = open_db ();
  check_integrity (db);
  check_rows (db, rows, tc->nrows);
  CHECK (check_index (db, "t", "t_su", "s, u", 2) == tc->nrows);
  CHECK (check_index (db, "t", "t_ij", "i, j", 2) == tc->nrows);
  d = tree_depth (db, "t");
  if (d < tc->min_depth || d > tc->max_depth)
    die ("table depth %d, expected %d..%d", d, tc->min_depth, tc->max_depth);
  di = tree_depth (db, "t_su");
  if (di < tc->min_depth || di > tc->max_depth)
    die ("index depth %d, expected %d..%d", di, tc->min_depth, tc->max_depth);
  dj = tree_depth (db, "t_ij");
  modify_table (db, tc->nrows);
  sqlite3_close (db);
  free_rows (rows, tc->nrows);
  printf ("%6.2fs ok %s: %zu rows, depths: table %d, t_su %d, t_ij %d\n",
          elapsed (), tc->name,
          tc->nrows, d, di, dj);
}

/* ---- objects_path: the radix sort against SQLite's order. ---- */

static void
run_paths_case (const char *name, unsigned page_size, size_t n)
{
  static const char *const devices[] = {
    "/dev/sda1", "/dev/sda10", "/dev/sda2", "/dev/sda", "/dev/sdb",
    "/dev/sda\xc3\xa9",
  };
  struct path_index pi = { 0 };
  struct vbm_error err = { 0 };
  struct db_file *f;
  struct db_table *t;
  uint32_t root_t, root_i;
  sqlite3 *db;
  char **paths = calloc (n + 1, sizeof *paths);
  const char **devs = calloc (n + 1, sizeof *devs);
  size_t k, l, chain = 0;

  what = name;
  create_db (page_size, 0,
             "CREATE TABLE o (id INTEGER PRIMARY KEY, device TEXT NOT NULL,"
             " path TEXT);"
             "CREATE INDEX o_path ON o (device, path);");
  db = open_db ();
  root_t = root_of (db, "o");
  root_i = root_of (db, "o_path");
  sqlite3_close (db);

  for (k = 0; k < n; ++k) {
    size_t depth, len;
    char *p;

    devs[k] = devices[rnd_below (4) ? rnd_below (2) : rnd_below (6)];
    switch (rnd_below (16)) {
    case 0: paths[k] = NULL; continue;
    case 1: paths[k] = strdup (""); continue;
    case 2:                     /* a repeat: ids break the tie */
      if (k > 0) {
        l = rnd_below (k);
        devs[k] = devs[l];
        paths[k] = paths[l] ? strdup (paths[l]) : NULL;
        continue;
      }
      break;
    case 3:                     /* a long chain of prefixes: deep radix */
      len = 1 + chain++ % 100;
      p = malloc (len + 2);
      memset (p, 'x', len);
      p[len] = 'y';
      p[len + 1] = 0;
      devs[k] = devices[0];
      paths[k] = p;
      continue;
    }
    /* A deep path of short components from a small alphabet, with
     * bytes 0x80-0xff, now and then several pages long.
     */
    depth = 1 + rnd_below (rnd_below (40) ? 8 : 600);
    p = malloc (depth * 12 + 1);
    len = 0;
    for (l = 0; l < depth; ++l) {
      size_t c, clen = 1 + rnd_below (rnd_below (2) ? 3 : 10);

      p[len++] = '/';
      for (c = 0; c < clen; ++c)
        p[len++] = rnd_below (5) ? "abc\x80\xfe"[rnd_below (5)] : '.';
    }
    p[len] = 0;
    paths[k] = p;
  }

  f = file_open ();
  t = db_table_new (f, root_t, &err);
  CHECK (t != NULL);
  for (k = 0; k < n; ++k) {
    struct db_value v[3] = {
      DB_NULLV, DB_TEXTV (devs[k], strlen (devs[k])),
      paths[k] ? DB_TEXTV (paths[k], strlen (paths[k])) : DB_NULLV,
    };

    if (db_table_append (t, k + 1, v, 3, &err) == -1)
      die ("db_table_append: %s", err.msg);
    CHECK (path_index_add (&pi, devs[k], paths[k], k + 1) == 0);
  }
  if (db_table_finish (t, &err) == -1)
    die ("db_table_finish: %s", err.msg);
  CHECK (path_index_sort (&pi) == 0);
  if (db_index_write (f, root_i, pi.keys.len, path_index_entry, &pi,
                      &err) == -1)
    die ("db_index_write: %s", err.msg);
  file_close (f);
  path_index_free (&pi);

  db = open_db ();
  check_integrity (db);
  CHECK (check_index (db, "o", "o_path", "device, path", 2) == n);
  CHECK ((size_t) query_int (db, "SELECT count(*) FROM o") == n);
  {
    sqlite3_stmt *s = prepare (db, "SELECT device, path FROM o ORDER BY id");

    for (k = 0; k < n; ++k) {
      CHECK (sqlite3_step (s) == SQLITE_ROW);
      CHECK (strcmp ((const char *) sqlite3_column_text (s, 0), devs[k]) == 0);
      if (paths[k])
        CHECK (strcmp ((const char *) sqlite3_column_text (s, 1),
                       paths[k]) == 0);
      else
        CHECK (sqlite3_column_type (s, 1) == SQLITE_NULL);
    }
    sqlite3_finalize (s);
  }
  printf ("%6.2fs ok %s: %zu paths, index depth %d\n", elapsed (), name, n,
          tree_depth (db, "o_path"));
  exec (db, "INSERT INTO o (device, path) SELECT device, path || '/new'"
        " FROM o WHERE id % 3 = 0; DELETE FROM o WHERE id % 4 = 1;");
  check_integrity (db);
  check_index (db, "o", "o_path", "device, path", 2);
  sqlite3_close (db);
  for (k = 0; k < n; ++k)
    free (paths[k]);
  free (paths);
  free (devs);
}

/* ---- extents_object: (object, offset NULL if negative, id). ---- */

static void
run_extents_case (const char *name, unsigned page_size, size_t n)
{
  struct extent_index ei = { 0 };
  struct vbm_error err = { 0 };
  struct db_file *f;
  struct db_table *t;
  uint32_t root_t, root_i;
  sqlite3 *db;
  size_t k;

  what = name;
  create_db (page_size, 0,
             "CREATE TABLE e (id INTEGER PRIMARY KEY, object INTEGER NOT NULL,"
             " offset INTEGER);"
             "CREATE INDEX e_obj ON e (object, offset);");
  db = open_db ();
  root_t = root_of (db, "e");
  root_i = root_of (db, "e_obj");
  sqlite3_close (db);

  f = file_open ();
  t = db_table_new (f, root_t, &err);
  CHECK (t != NULL);
  for (k = 0; k < n; ++k) {
    /* Mostly in order, as the mappers add them; sometimes not. */
    int64_t object = rnd_below (10) ? (int64_t) (k / 4) : rnd_int ();
    int64_t offset = rnd_below (5) == 0 ? -1 - (int64_t) rnd_below (3)
      : rnd_below (3) ? (int64_t) (k % 4) * 4096 : rnd_int ();
    struct db_value v[3] = {
      DB_NULLV, DB_INTV (object), offset >= 0 ? DB_INTV (offset) : DB_NULLV,
    };

    if (db_table_append (t, k + 1, v, 3, &err) == -1)
      die ("db_table_append: %s", err.msg);
    CHECK (extent_index_add (&ei, object, offset, k + 1) == 0);
  }
  if (db_table_finish (t, &err) == -1)
    die ("db_table_finish: %s", err.msg);
  extent_index_sort (&ei);
  if (db_index_write (f, root_i, ei.keys.len, extent_index_entry, &ei,
                      &err) == -1)
    die ("db_index_write: %s", err.msg);
  file_close (f);
  free (ei.keys.ptr);

  db = open_db ();
  check_integrity (db);
  CHECK (check_index (db, "e", "e_obj", "object, offset", 2) == n);
  printf ("%6.2fs ok %s: %zu extents, index depth %d\n", elapsed (), name, n,
          tree_depth (db, "e_obj"));
  sqlite3_close (db);
}

/* ---- The R*Tree. ---- */

struct box {
  unsigned disk;
  uint64_t start, end;
};

/* Is the float F <= X, and the next float up > X?  (long double holds
 * every uint64_t exactly on x86 and 64-bit ARM.)
 */
static int
tight_below (double f, uint64_t x)
{
  float up = nextafterf ((float) f, INFINITY);

  return (double) (float) f == f && (long double) f <= (long double) x &&
    (long double) up > (long double) x;
}

static int
tight_above (double f, uint64_t x)
{
  float down = nextafterf ((float) f, 0);

  return (double) (float) f == f && (long double) f >= (long double) x &&
    (long double) down < (long double) x;
}

static uint64_t
rnd_offset (void)
{
  switch (rnd_below (4)) {
  case 0: return rnd_below (1 << 20);
  case 1: return (1 << 24) - 2 + rnd_below (5);
  case 2: return rnd_shifted (1) >> rnd_below (40);
  default: return rnd_below (1ULL << 40) * 512;
  }
}

/* Queries through the tree find what a scan of its rows finds. */
static void
check_rtree_queries (sqlite3 *db, unsigned nq)
{
  sqlite3_stmt *scan = prepare (db, "SELECT id, x0, x1, y0, y1 FROM r");
  sqlite3_stmt *q = prepare (db, "SELECT id FROM r WHERE x0 <= ?1"
                             " AND x1 >= ?1 AND y0 <= ?3 AND y1 >= ?2"
                             " ORDER BY id");
  struct { int64_t id; double c[4]; } *all = NULL;
  size_t n = 0, cap = 0, k, found;
  unsigned i;

  while (sqlite3_step (scan) == SQLITE_ROW) {
    if (n == cap) {
      cap = cap ? 2 * cap : 256;
      all = realloc (all, cap * sizeof *all);
    }
    all[n].id = sqlite3_column_int64 (scan, 0);
    for (i = 0; i < 4; ++i)
      all[n].c[i] = sqlite3_column_double (scan, i + 1);
    ++n;
  }
  sqlite3_finalize (scan);
  CHECK ((int64_t) n == query_int (db, "SELECT count(*) FROM r_rowid"));
  for (i = 0; i < nq; ++i) {
    double d = rnd_below (5), lo, hi;
    size_t expect = 0;
    int64_t prev = INT64_MIN;

    /* Windows around existing boxes' edges, and random ones. */
    if (n > 0 && rnd_below (2)) {
      k = rnd_below (n);
      d = all[k].c[0];
      lo = all[k].c[rnd_below (2) ? 2 : 3];
      hi = lo + (double) rnd_below (1 << 16);
    }
    else {
      lo = (double) rnd_offset ();
      hi = lo + (double) rnd_shifted (0);
    }
    for (k = 0; k < n; ++k)
      if (all[k].c[0] <= d && all[k].c[1] >= d && all[k].c[2] <= hi &&
          all[k].c[3] >= lo)
        ++expect;
    sqlite3_bind_double (q, 1, d);
    sqlite3_bind_double (q, 2, lo);
    sqlite3_bind_double (q, 3, hi);
    for (found = 0; sqlite3_step (q) == SQLITE_ROW; ++found) {
      int64_t id = sqlite3_column_int64 (q, 0);

      CHECK (id > prev);
      prev = id;
    }
    sqlite3_reset (q);
    if (found != expect)
      die ("R*Tree query %u: %zu rows, a scan finds %zu", i, found, expect);
  }
  sqlite3_finalize (q);
  free (all);
}

static void
check_rtree (sqlite3 *db)
{
  sqlite3_stmt *s = prepare (db, "SELECT rtreecheck('r')");

  CHECK (sqlite3_step (s) == SQLITE_ROW);
  if (strcmp ((const char *) sqlite3_column_text (s, 0), "ok") != 0)
    die ("rtreecheck: %s", sqlite3_column_text (s, 0));
  sqlite3_finalize (s);
  check_integrity (db);
}

static void
run_rtree_case (const char *name, unsigned page_size, size_t n,
                int min_depth, int max_depth)
{
  struct rtree_roots roots;
  struct vbm_error err = { 0 };
  rtree_cells cells = empty_vector;
  struct box *boxes = calloc (n + 1, sizeof *boxes);
  struct db_file *f;
  sqlite3 *db;
  sqlite3_stmt *s;
  size_t node_size, k;
  int depth;

  what = name;
  create_db (page_size, 0,
             "CREATE VIRTUAL TABLE r USING rtree (id, x0, x1, y0, y1);");
  db = open_db ();
  roots.node = root_of (db, "r_node");
  roots.parent = root_of (db, "r_parent");
  roots.rowid = root_of (db, "r_rowid");
  node_size = query_int (db, "SELECT length(data) FROM r_node"
                         " WHERE nodeno = 1");
  sqlite3_close (db);

  for (k = 0; k < n; ++k) {
    struct box *b = &boxes[k];

    b->disk = rnd_below (4);
    b->start = rnd_offset ();
    b->end = b->start + 1 + (rnd_below (2) ? rnd_below (1 << 20)
                             : rnd_below (1ULL << 40));
    if (b->end > INT64_MAX)
      b->end = INT64_MAX;
    if (b->start >= b->end)
      b->start = b->end - 1;
    CHECK (rtree_cells_add (&cells, k + 1, b->disk, b->start, b->end) == 0);
  }
  f = file_open ();
  if (rtree_write (f, &roots, node_size, &cells, &err) == -1)
    die ("rtree_write: %s", err.msg);
  file_close (f);
  free (cells.ptr);

  db = open_db ();
  check_rtree (db);
  CHECK ((size_t) query_int (db, "SELECT count(*) FROM r") == n);
  /* Each entry by its id, in the smallest float box around it. */
  s = prepare (db, "SELECT x0, x1, y0, y1 FROM r WHERE id = ?");
  for (k = 0; k < n; ++k) {
    const struct box *b = &boxes[k];

    sqlite3_bind_int64 (s, 1, k + 1);
    CHECK (sqlite3_step (s) == SQLITE_ROW);
    CHECK (sqlite3_column_double (s, 0) == b->disk);
    CHECK (sqlite3_column_double (s, 1) == b->disk);
    if (!tight_below (sqlite3_column_double (s, 2), b->start))
      die ("entry %zu: start %" PRIu64 " stored as %.1f", k + 1, b->start,
           sqlite3_column_double (s, 2));
    if (!tight_above (sqlite3_column_double (s, 3), b->end))
      die ("entry %zu: end %" PRIu64 " stored as %.1f", k + 1, b->end,
           sqlite3_column_double (s, 3));
    sqlite3_reset (s);
  }
  sqlite3_finalize (s);
  check_rtree_queries (db, 300);
  {
    sqlite3_stmt *h = prepare (db, "SELECT substr(data, 1, 2) FROM r_node"
                               " WHERE nodeno = 1");
    const unsigned char *p;

    CHECK (sqlite3_step (h) == SQLITE_ROW);
    p = sqlite3_column_blob (h, 0);
    depth = p[0] << 8 | p[1];
    sqlite3_finalize (h);
  }
  if (depth < min_depth || depth > max_depth)
    die ("R*Tree depth %d, expected %d..%d", depth, min_depth, max_depth);

  /* SQLite inserts (splitting our nodes), deletes (condensing them)
   * and moves entries.
   */
  exec (db, "BEGIN");
  s = prepare (db, "INSERT INTO r VALUES (?, ?, ?, ?, ?)");
  for (k = 0; k < 200; ++k) {
    double st = (double) rnd_offset ();

    sqlite3_bind_int64 (s, 1, n + 1000 + k);
    sqlite3_bind_double (s, 2, rnd_below (4));
    sqlite3_bind_double (s, 3, 4);
    sqlite3_bind_double (s, 4, st);
    sqlite3_bind_double (s, 5, st + rnd_below (1 << 20));
    CHECK (sqlite3_step (s) == SQLITE_DONE);
    sqlite3_reset (s);
  }
  sqlite3_finalize (s);
  exec (db, "DELETE FROM r WHERE id % 3 = 0;"
        "UPDATE r SET y0 = y0 / 2, y1 = y1 + 1000 WHERE id % 7 = 1;"
        "COMMIT");
  check_rtree (db);
  check_rtree_queries (db, 100);
  sqlite3_close (db);
  free (boxes);
  printf ("%6.2fs ok %s: %zu entries, depth %d\n", elapsed (), name, n, depth);
}

/* ---- Files SQLite wrote across the lock-byte page at 1 GiB. ---- */

/* SQLite fills the file up to a few pages below the lock-byte page
 * with a table of zero blobs; then we write a table and its index
 * after it, a long text first (an overflow chain across the page) if
 * OVERFLOW, else many small rows (leaves across it).
 */
static void
run_lockbyte_case (const char *name, unsigned page_size, int overflow)
{
  const uint32_t pending = 0x40000000 / page_size + 1;
  const size_t n = overflow ? 50 : 20000;
  struct row *rows = calloc (n, sizeof *rows);
  uint32_t root_t, root_su, root_ij;
  struct db_file *f;
  sqlite3 *db;
  sqlite3_stmt *s;
  char sql[200];
  size_t k;

  what = name;
  create_db (page_size, 0, "PRAGMA journal_mode = OFF;"
             "CREATE TABLE filler (b BLOB);" TABLE_SQL);
  db = open_db ();
  exec (db, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF");
  /* Half the way, twice (a blob is at most 10^9 bytes), then a page
   * at a time.
   */
  snprintf (sql, sizeof sql, "INSERT INTO filler VALUES (zeroblob(%" PRIu64
            "))", (uint64_t) (pending / 2 - 8) * (page_size - 4));
  exec (db, sql);
  exec (db, sql);
  snprintf (sql, sizeof sql, "INSERT INTO filler VALUES (zeroblob(%u))",
            page_size - 4);
  s = prepare (db, sql);
  while (query_int (db, "PRAGMA page_count") < pending - 3) {
    CHECK (sqlite3_step (s) == SQLITE_DONE);
    sqlite3_reset (s);
  }
  sqlite3_finalize (s);
  CHECK (query_int (db, "PRAGMA page_count") < pending);
  root_t = root_of (db, "t");
  root_su = root_of (db, "t_su");
  root_ij = root_of (db, "t_ij");
  sqlite3_close (db);

  make_rowids (rows, n);
  for (k = 0; k < n; ++k) {
    rows[k].i = k;
    rows[k].u_null = 1;
    rows[k].j_null = 1;
    rows[k].slen = k == 0 && overflow ? 10 * page_size : 20 + rnd_below (40);
    rows[k].s = rnd_text (rows[k].slen);
  }
  f = file_open ();
  write_table (f, root_t, rows, n);
  write_index (f, root_su, rows, n, 0);
  write_index (f, root_ij, rows, n, 1);
  file_close (f);

  db = open_db ();
  CHECK (query_int (db, "PRAGMA page_count") > pending);
  check_integrity (db);
  check_rows (db, rows, n);
  CHECK (check_index (db, "t", "t_su", "s, u", 2) == n);
  CHECK (check_index (db, "t", "t_ij", "i, j", 2) == n);
  /* (Deleting the filler would rewrite it: SQLite here zeroes what
   * it frees.)
   */
  exec (db, "DELETE FROM t WHERE i % 2 = 0;"
        "INSERT INTO t (i, s) SELECT i + 1000000, s FROM t;");
  CHECK (check_index (db, "t", "t_su", "s, u", 2) == n);
  check_integrity (db);
  sqlite3_close (db);
  unlink (dbpath);
  free_rows (rows, n);
  printf ("%6.2fs ok %s: past page %" PRIu32 "\n", elapsed (), name, pending);
}

/* ---- What db_file_open must refuse, and errors. ---- */

static void
expect_open_fails (const char *why)
{
  struct vbm_error err = { 0 };
  struct db_file *f = db_file_open (dbpath, &err);

  what = why;
  CHECK (f == NULL);
  CHECK (err.msg[0] != 0);
}

static void
run_error_cases (void)
{
  struct vbm_error err = { 0 };
  struct db_value v[1] = { DB_INTV (1) };
  struct db_file *f;
  struct db_table *t;
  sqlite3 *db;
  FILE *fp;
  rtree_cells cells = empty_vector;
  struct rtree_roots roots;
  size_t node_size;

  /* Not a database. */
  unlink (dbpath);
  fp = fopen (dbpath, "w");
  fputs ("not an SQLite file, really not at all, but long enough ..."
         "..............................................................",
         fp);
  fclose (fp);
  expect_open_fails ("not a database");

  /* Free pages: we would have to keep the free list. */
  create_db (4096, 0, "CREATE TABLE a (x); CREATE TABLE b (x);"
             "INSERT INTO b VALUES (zeroblob(100000)); DROP TABLE b;");
  db = open_db ();
  CHECK (query_int (db, "PRAGMA freelist_count") > 0);
  sqlite3_close (db);
  expect_open_fails ("free pages");

  /* Auto-vacuum: pointer-map pages we would not keep up to date. */
  unlink (dbpath);
  db = open_db ();
  exec (db, "PRAGMA auto_vacuum = FULL; CREATE TABLE a (x);");
  CHECK (query_int (db, "PRAGMA auto_vacuum") == 1);
  sqlite3_close (db);
  expect_open_fails ("auto-vacuum");

  /* Rows out of order; a bad R*Tree id.  Discarding closes cleanly. */
  what = "errors";
  create_db (4096, 0, TABLE_SQL
             "CREATE VIRTUAL TABLE r USING rtree (id, x0, x1, y0, y1);");
  db = open_db ();
  roots.node = root_of (db, "r_node");
  roots.parent = root_of (db, "r_parent");
  roots.rowid = root_of (db, "r_rowid");
  node_size = query_int (db, "SELECT length(data) FROM r_node"
                         " WHERE nodeno = 1");
  t = NULL;
  sqlite3_close (db);
  f = file_open ();
  t = db_table_new (f, 2, &err);
  CHECK (t != NULL);
  CHECK (db_table_append (t, 5, v, 1, &err) == 0);
  CHECK (db_table_append (t, 5, v, 1, &err) == -1);
  CHECK (strstr (err.msg, "order") != NULL);
  db_table_free (t);
  CHECK (rtree_cells_add (&cells, 1, 0, 0, 10) == 0);
  CHECK (rtree_cells_add (&cells, 1, 0, 5, 10) == 0);
  err.msg[0] = 0;
  CHECK (rtree_write (f, &roots, node_size, &cells, &err) == -1);
  CHECK (err.msg[0] != 0);
  free (cells.ptr);
  CHECK (db_file_close (f, 1, &err) == 0);
  printf ("%6.2fs ok errors\n", elapsed ());
}

int
main (int argc, char *argv[])
{
  const char *tmpdir = getenv ("VBM_TEST_TMPDIR");
  const char *env_seed = getenv ("VBM_TEST_SEED");
  uint64_t seeds[2] = { 20240601 };
  unsigned nseeds = 1, si;
  int quick = argc > 1 && strcmp (argv[1], "--quick") == 0;

  clock_gettime (CLOCK_MONOTONIC, &t0);
  if (tmpdir == NULL)
    tmpdir = getenv ("TMPDIR");
  snprintf (dir, sizeof dir, "%s/test-dbwrite.XXXXXX", tmpdir ?: "/tmp");
  if (mkdtemp (dir) == NULL)
    die ("mkdtemp: %s", strerror (errno));
  snprintf (dbpath, sizeof dbpath, "%s/db", dir);
  if (env_seed && *env_seed)
    seeds[nseeds++] = strtoull (env_seed, NULL, 0);

  for (si = 0; si < nseeds; ++si) {
    /* min_depth/max_depth: how many levels the sizes make. */
    const struct table_case tables[] = {
      { "empty", 4096, 0, 0, 1, 1, 0 },
      { "one row", 4096, 0, 1, 1, 1, 0 },
      { "one page", 4096, 0, 12, 1, 1, 1 },
      { "two levels, short rows", 4096, 0, 400, 2, 2, 1 },
      { "two levels", 4096, 0, 300, 2, 3, 0 },
      { "three levels, 512-byte pages", 512, 0, 3000, 3, 4, 0 },
      { "usable 480 (512 - 32 reserved)", 512, 32, 4000, 3, 5, 0 },
      { "1024-byte pages, 8 reserved", 1024, 8, 6000, 3, 5, 0 },
      { "four levels, 512-byte pages", 512, 0, 12000, 4, 7, 0 },
      { "64 KiB pages", 65536, 0, 250, 1, 3, 0 },
    };
    size_t k;

    rng = seeds[si];
    printf ("seed %" PRIu64 "\n", seeds[si]);
    for (k = 0; k < sizeof tables / sizeof tables[0]; ++k)
      if (!quick || tables[k].nrows < 5000)
        run_table_case (&tables[k]);
    run_paths_case ("paths, 4096", 4096, 3000);
    run_paths_case ("paths, 512", 512, quick ? 3000 : 20000);
    run_paths_case ("paths, none", 4096, 0);
    run_paths_case ("paths, one", 4096, 1);
    run_extents_case ("extents, 512", 512, 20000);
    run_extents_case ("extents, none", 4096, 0);
    run_rtree_case ("rtree, empty", 4096, 0, 0, 0);
    run_rtree_case ("rtree, one", 4096, 1, 0, 0);
    run_rtree_case ("rtree, one full node", 512, 18, 0, 0);
    run_rtree_case ("rtree, two levels", 512, 19, 1, 1);
    run_rtree_case ("rtree, 4096", 4096, 5000, 2, 2);
    run_rtree_case ("rtree, deep", 512, quick ? 2000 : 8000, 2, 3);
  }
  run_error_cases ();
  if (!quick) {
    run_lockbyte_case ("lock-byte page, overflow chain", 65536, 1);
    run_lockbyte_case ("lock-byte page, leaves", 4096, 0);
  }
  unlink (dbpath);
  if (rmdir (dir) == -1)
    die ("rmdir %s: %s", dir, strerror (errno));
  return EXIT_SUCCESS;
}
