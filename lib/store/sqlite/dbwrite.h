/* Writing b-trees straight into an SQLite database file.
 *
 * A map is written once and then only read, so instead of inserting
 * rows through SQLite (each insert descends a b-tree and runs the
 * VDBE; indexes are sorted again at the end) we pack the pages
 * ourselves, bottom-up and full, in the documented and stable file
 * format (https://www.sqlite.org/fileformat2.html).  SQLite itself
 * creates the database, its schema and the empty b-trees; we fill the
 * ones it names by their root pages, appending every other page to the
 * end of the file, and SQLite's integrity_check verifies the result
 * (tests).
 */
#ifndef VBM_DBWRITE_H
#define VBM_DBWRITE_H

#include <stddef.h>
#include <stdint.h>

struct vbm_error;

/* ---- A value of a record column. ---- */
enum db_type { DB_NULL, DB_INT, DB_TEXT, DB_BLOB };

struct db_value {
  enum db_type type;
  int64_t i;                    /* DB_INT */
  const void *p;                /* DB_TEXT, DB_BLOB */
  size_t n;
};

#define DB_NULLV ((struct db_value) { .type = DB_NULL })
#define DB_INTV(v) ((struct db_value) { .type = DB_INT, .i = (v) })
#define DB_TEXTV(s, len) ((struct db_value) { .type = DB_TEXT, .p = (s), .n = (len) })
#define DB_BLOBV(b, len) ((struct db_value) { .type = DB_BLOB, .p = (b), .n = (len) })

#define DB_MAX_COLUMNS 16

/* ---- The file (dbwrite.c). ---- */
struct db_file;

/* Opens the database PATH that SQLite created and closed (no journal,
 * no free pages).  Pages are appended after its last page.
 */
extern struct db_file *db_file_open (const char *path,
                                     struct vbm_error *err);

/* Writes the header's page count and closes: the file is then a valid
 * database.  With DISCARD set it only closes (the caller deletes it).
 */
extern int db_file_close (struct db_file *f, int discard,
                          struct vbm_error *err);

/* The usable bytes of a page. */
extern unsigned db_file_usable (const struct db_file *f);

/* ---- A rowid table, filled in rowid order (dbtable.c). ---- */
struct db_table;

/* ROOT is the table's root page as SQLite created it (an empty leaf). */
extern struct db_table *db_table_new (struct db_file *f, uint32_t root,
                                      struct vbm_error *err);

/* ROWID must be greater than the previous one. */
extern int db_table_append (struct db_table *t, int64_t rowid,
                            const struct db_value *vals, unsigned n,
                            struct vbm_error *err);

/* Writes the inner pages and the root, and frees T. */
extern int db_table_finish (struct db_table *t, struct vbm_error *err);
extern void db_table_free (struct db_table *t);

/* ---- An index from its sorted entries (dbindex.c). ---- */

/* Fills entry I's columns (the indexed ones, then the rowid) into VALS
 * and returns their number.
 */
typedef unsigned (*db_index_entry_fn) (void *opaque, size_t i,
                                       struct db_value *vals);

/* Writes the index rooted at ROOT (empty) with N entries, which the
 * caller has sorted in SQLite's order (NULL < integers < text, text by
 * memcmp then length, the rowid last).
 */
extern int db_index_write (struct db_file *f, uint32_t root, size_t n,
                           db_index_entry_fn entry, void *opaque,
                           struct vbm_error *err);

/* ---- Shared by the above (dbwrite.c). ---- */

/* Page types. */
enum { DB_INDEX_INTERIOR = 2, DB_TABLE_INTERIOR = 5,
       DB_INDEX_LEAF = 10, DB_TABLE_LEAF = 13 };

/* A page being filled. */
struct db_page {
  unsigned char *buf;
  unsigned type, hdr, ncells, content;
};

/* At least the size of the record of VALS. */
extern size_t db_record_bound (const struct db_value *vals, unsigned n);
/* Returns its size. */
extern size_t db_record_encode (const struct db_value *vals, unsigned n,
                                unsigned char *out);

/* The same in two steps, to know a record's size before writing it
 * where it goes: its header and size, then the record.
 */
struct db_record {
  unsigned char hdr[2 + DB_MAX_COLUMNS * 9];
  unsigned char types[DB_MAX_COLUMNS];  /* of the integers */
  size_t hlen, len;
};
extern void db_record_prepare (const struct db_value *vals, unsigned n,
                               struct db_record *r);
extern void db_record_write (const struct db_record *r,
                             const struct db_value *vals, unsigned n,
                             unsigned char *out);
/* The bytes of SQLite's varint of V: 7 bits a byte for up to 8 bytes
 * (56 bits), the 9th holding 8.  Inline: every cell needs it.
 */
static inline unsigned
db_varint_len (uint64_t v)
{
  unsigned bits = 64 - __builtin_clzll (v | 1);

  return bits > 56 ? 9 : (bits + 6) / 7;
}
extern void db_put_be (unsigned char *p, uint64_t v, int bytes);

extern int db_page_init (struct db_file *f, struct db_page *pg,
                         unsigned type, struct vbm_error *err);
extern void db_page_reset (struct db_file *f, struct db_page *pg);
extern void db_page_free (struct db_page *pg);

/* The bytes a cell takes in a page, its pointer included. */
extern size_t db_cell_size (const struct db_file *f, unsigned type,
                            int64_t rowid, size_t payload_len);
extern unsigned db_page_room (const struct db_page *pg);

/* Adds a cell (the caller checked the room), writing any overflow
 * pages.  CHILD is for interior pages, ROWID for table pages.
 */
extern int db_page_add (struct db_file *f, struct db_page *pg,
                        uint32_t child, int64_t rowid,
                        const unsigned char *payload, size_t len,
                        struct vbm_error *err);

/* Adds to a table leaf the cell of record R of VALS, written in place.
 * Returns 1 if the page has no room for it, -1 (nothing done) if its
 * payload would overflow the page: db_page_add is for those.
 */
extern int db_page_add_row (struct db_file *f, struct db_page *pg,
                            int64_t rowid, const struct db_record *r,
                            const struct db_value *vals, unsigned n);

/* Writes PG at PGNO (0: a new page, whose number is returned). */
extern uint32_t db_page_write (struct db_file *f, struct db_page *pg,
                               uint32_t right_child, uint32_t pgno,
                               struct vbm_error *err);

#endif /* VBM_DBWRITE_H */
