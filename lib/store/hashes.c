/* The map's hashes table (hash/hash.h), written into the finished
 * map through SQLite: one row per regular file, its digests in
 * lowercase hex or why it has none.  The stage's warnings go with the
 * others.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "hash.h"
#include "hex.h"
#include "schema.h"

static int
fail (sqlite3 *db, struct vbm_error *err, const char *what)
{
  vbm_set_error (err, EIO, "map store: hashes: %s: %s", what,
                 db ? sqlite3_errmsg (db) : "out of memory");
  return -1;
}

static int
insert_files (sqlite3 *db, const struct hash_plan *p, unsigned algorithms,
              struct vbm_error *err)
{
  sqlite3_stmt *s;
  size_t i, a;

  if (sqlite3_prepare_v2 (db, "INSERT INTO hashes"
                          " (object, md5, sha1, sha256, not_hashed)"
                          " VALUES (?,?,?,?,?)", -1, &s, NULL) != SQLITE_OK)
    return fail (db, err, "prepare");
  for (i = 0; i < p->files.len; ++i) {
    const struct hfile *f = &p->files.ptr[i];
    char hex[VBM_NR_HASHES][65];

    sqlite3_bind_int64 (s, 1, f->id);
    for (a = 0; a < VBM_NR_HASHES; ++a) {
      if (f->skip == HASH_OK && (algorithms & hash_algos[a].bit)) {
        vbm_hex (f->digest + hash_algos[a].at, hash_algos[a].len, hex[a]);
        sqlite3_bind_text (s, 2 + a, hex[a], -1, SQLITE_STATIC);
      }
      else
        sqlite3_bind_null (s, 2 + a);
    }
    if (f->skip == HASH_OK)
      sqlite3_bind_null (s, 5);
    else
      sqlite3_bind_text (s, 5, hash_skip_name (f->skip), -1, SQLITE_STATIC);
    if (sqlite3_step (s) != SQLITE_DONE) {
      sqlite3_finalize (s);
      return fail (db, err, "insert");
    }
    sqlite3_reset (s);
  }
  sqlite3_finalize (s);
  return 0;
}

static int
insert_warnings (sqlite3 *db, const struct hash_ctx *hc, unsigned total,
                 struct vbm_error *err)
{
  sqlite3_stmt *s;
  char count[32];
  size_t i;
  int r = 0;

  /* The stage reads every disk: its warnings are the first's. */
  if (sqlite3_prepare_v2 (db, "INSERT INTO warnings (disk, message)"
                          " VALUES (0, ?)", -1, &s, NULL) != SQLITE_OK)
    return fail (db, err, "prepare");
  for (i = 0; i < hc->warnings.len && r == 0; ++i) {
    sqlite3_bind_text (s, 1, hc->warnings.ptr[i], -1, SQLITE_STATIC);
    if (sqlite3_step (s) != SQLITE_DONE)
      r = fail (db, err, "warning");
    sqlite3_reset (s);
  }
  sqlite3_finalize (s);
  if (r == -1)
    return -1;
  if (sqlite3_prepare_v2 (db, "INSERT OR REPLACE INTO meta (key, value)"
                          " VALUES ('warnings', ?)", -1, &s, NULL) != SQLITE_OK)
    return fail (db, err, "prepare");
  snprintf (count, sizeof count, "%u", total);
  sqlite3_bind_text (s, 1, count, -1, SQLITE_STATIC);
  if (sqlite3_step (s) != SQLITE_DONE)
    r = fail (db, err, "warnings");
  sqlite3_finalize (s);
  return r;
}

static int
set_algorithms (sqlite3 *db, unsigned algorithms, struct vbm_error *err)
{
  sqlite3_stmt *s;
  char list[32] = "";
  size_t a;
  int r = 0;

  for (a = 0; a < VBM_NR_HASHES; ++a)
    if (algorithms & hash_algos[a].bit)
      snprintf (list + strlen (list), sizeof list - strlen (list), "%s%s",
                list[0] ? "," : "", hash_algos[a].name);
  if (sqlite3_prepare_v2 (db, "INSERT OR REPLACE INTO meta (key, value)"
                          " VALUES ('hashes', ?)", -1, &s, NULL) != SQLITE_OK)
    return fail (db, err, "prepare");
  sqlite3_bind_text (s, 1, list, -1, SQLITE_STATIC);
  if (sqlite3_step (s) != SQLITE_DONE)
    r = fail (db, err, "meta");
  sqlite3_finalize (s);
  return r;
}

static int
exec (sqlite3 *db, const char *sql, struct vbm_error *err)
{
  return sqlite3_exec (db, sql, NULL, NULL, NULL) == SQLITE_OK
    ? 0 : fail (db, err, "schema");
}

int
vbm_store_write_hashes (const char *map_path, const struct hash_plan *p,
                        unsigned algorithms, const struct hash_ctx *hc,
                        unsigned total_warnings, struct vbm_error *err)
{
  sqlite3 *db = NULL;
  int r;

  if (sqlite3_open_v2 (map_path, &db, SQLITE_OPEN_READWRITE, NULL)
      != SQLITE_OK) {
    r = fail (db, err, map_path);
    sqlite3_close (db);
    return r;
  }
  /* Private until renamed, as in store.c: no journal, no syncs. */
  r = exec (db, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
            "BEGIN;" VBM_SCHEMA_HASHES, err);
  if (r == 0)
    r = insert_files (db, p, algorithms, err);
  if (r == 0)
    r = set_algorithms (db, algorithms, err);
  if (r == 0)
    r = insert_warnings (db, hc, total_warnings, err);
  if (r == 0)
    r = exec (db, "COMMIT;", err);
  sqlite3_close (db);
  return r;
}
