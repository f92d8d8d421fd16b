/* bmaplog report: forensic reports made from a trace.
 *
 * The data flow: the trace is read one record at a time (read.c,
 * jsonl.c) and folded into per-object totals (agg.c) and a fixed-size
 * time x offset grid (grid.c), so memory grows with the objects
 * touched, never with the records.  Then the map adds sizes, flags
 * and partitions (map.c), and the outputs are written: text (text.c),
 * JSON (json.c), HTML with inline SVG (html.c, svg.c).  --diff
 * compares two traces (diff.c).
 */
#ifndef BMAPLOG_REPORT_H
#define BMAPLOG_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "atomic-file.h"
#include "virtbmap.h"
#include "trace-format.h"

#define RPROG "bmaplog report"

/* ---- Reading traces (read.c, jsonl.c) ---- */

/* One trace record (a request piece).  Strings point into the
 * reader's line buffer: valid until the next record.
 */
struct trace_record {
  uint64_t t_ns, conn;
  enum trace_op op;
  unsigned disk;
  uint64_t offset, length;
  char kind;                    /* 0: beyond the map */
  const char *device;           /* "" if none */
  const char *path;             /* NULL if none */
  uint64_t inode;
  int64_t object_offset;        /* -1 if none */
  int error;
  const char *former;           /* a deleted file whose data was here,
                                 * NULL if none (or an older trace) */
};

struct trace_image {
  unsigned disk;
  char *path, *format;
  uint64_t size;
  int64_t mtime;                /* -1 if unknown */
};

/* The trace's first record, written by bmaplog since the report
 * exists; older traces have none.
 */
struct trace_header {
  bool present;
  int version;
  char *tool_version, *start, *mode;
  char *map_path, *map_created, *map_tool_version;
  struct trace_image *images;
  size_t nimages;
};

enum rtrace_format { TF_UNKNOWN, TF_JSONL, TF_TSV };

struct trace_reader {
  const char *name;
  FILE *fp;
  enum rtrace_format format;
  struct trace_header header;
  uint64_t line;                /* of the last line read */
  uint64_t records;
  uint64_t bytes;               /* read so far: the trace's size at the end */
  /* The line buffer: bounded, a longer line is an error. */
  char *buf;
  size_t pos, fill;
  bool eof;
  bool pending;                 /* the first record, read by trace_open */
  struct trace_record first;
  char err[512];
};

extern int trace_open (struct trace_reader *r, const char *path);
/* 1: a record, 0: end of the trace, -1: error in r->err. */
extern int trace_next (struct trace_reader *r, struct trace_record *rec);
extern void trace_close (struct trace_reader *r);

/* A tiny JSON reader for one line: calls fn for every scalar with the
 * keys (and array indexes) leading to it.  Strings are unescaped in
 * place.  Returns -1 with a message in err on malformed JSON.
 */
#define JSON_MAX_DEPTH 4
enum jtype { J_STRING, J_NUMBER, J_NULL, J_TRUE, J_FALSE };
struct jvalue {
  enum jtype type;
  const char *s;                /* string (NUL-terminated) or number text */
  size_t len;
};
struct jpath {
  int depth;
  const char *key[JSON_MAX_DEPTH];  /* NULL inside arrays */
  long index[JSON_MAX_DEPTH];
};
typedef int (*json_visit_fn) (void *opaque, const struct jpath *path,
                              const struct jvalue *v);
extern int json_parse_line (char *line, json_visit_fn fn, void *opaque,
                            char *err, size_t errlen);
extern int json_uint (const struct jvalue *v, uint64_t *r);

/* ---- Aggregation (agg.c, grid.c) ---- */

/* Distinct byte ranges read inside one object: sorted, merged, and at
 * most IVSET_MAX of them; past that the closest two are joined (the
 * gap counts as read) and the set is marked approximate.
 */
#define IVSET_MAX 32
struct interval { uint64_t start, end; };
struct ivset {
  struct interval *v;
  uint32_t len, cap;
  bool approx;
};
extern int ivset_add (struct ivset *s, uint64_t start, uint64_t end);
extern uint64_t ivset_bytes (const struct ivset *s, uint64_t limit);

/* Object flags the report adds (beside the map's VBM_OBJECT_*). */
#define RFLAG_FREE        0x01  /* free space, unpartitioned, gaps */
#define RFLAG_UNMAPPED    0x02  /* beyond the map */
#define RFLAG_DELETED     0x04
#define RFLAG_UNREACHABLE 0x08
#define RFLAG_RAW         0x10  /* a partition or disk no filesystem explains */
#define RFLAG_NOT_IN_MAP  0x20  /* the map has no such object: stale map? */

struct robj {
  const char *device;           /* interned; "" if none */
  char *path;                   /* NULL if none */
  uint64_t inode;
  unsigned disk;
  char kind;                    /* 0: beyond the map */
  uint64_t first_ns, first_seq; /* first access (any data operation) */
  uint64_t last_req;            /* to count requests, not pieces */
  uint64_t reads, bytes_read, read_errors;
  uint64_t writes, bytes_written; /* write, zero, trim */
  struct ivset cov;             /* object (or disk) ranges read */
  bool cov_disk;                /* cov holds disk offsets */
  /* From the map. */
  bool in_map;
  uint64_t size;
  unsigned map_flags;
  unsigned flags;               /* RFLAG_* */
  char *hash;                   /* "sha256:HEX" or "not hashed: why", or NULL */
};

/* Totals under one name: a kind, a partition, a directory. */
struct tally {
  const char *device;
  char *name;
  uint64_t objects, reads, bytes_read, distinct_read, bytes_written;
};

/* Kinds as the report groups them. */
enum kclass { KC_FILE, KC_DIR, KC_META, KC_FREE, KC_UNMAPPED, KC_VOLUME,
              NR_KCLASS };
extern const char *const kclass_names[NR_KCLASS];
extern enum kclass kind_class (char kind);

/* The time x disk offset picture, bounded whatever the trace's size:
 * columns double their time span when the trace outgrows them.
 */
#define GRID_COLS 600
#define GRID_ROWS 240
#define GRID_WRITE NR_KCLASS    /* the bit for writes */
struct grid {
  uint8_t *cell;                /* GRID_COLS x GRID_ROWS bitmasks */
  uint64_t ns_per_col;
  uint64_t max_ns;
  unsigned ndisks, rows_per_disk;
  uint64_t *disk_size, *bytes_per_row;
  bool any;
};
extern int grid_init (struct grid *g, unsigned ndisks,
                      const uint64_t *disk_size);
extern void grid_add (struct grid *g, uint64_t t_ns, unsigned disk,
                      uint64_t offset, uint64_t length, unsigned bit);
extern void grid_free (struct grid *g);

struct partition {
  unsigned disk;
  char *device;
  char kind;
  uint64_t start, end;
};

struct agg {
  /* Objects in order of first appearance in the trace. */
  struct robj *objs;
  size_t nobjs, cap;
  uint32_t *hash;               /* open addressing: index + 1, 0 empty */
  size_t hash_size;
  char **devices;               /* interned device names */
  size_t ndevices;

  unsigned ndisks;              /* 0: not checked (no map) */
  struct grid *grid;            /* NULL: no picture */

  /* Request-level counts: a request cut into pieces counts once. */
  uint64_t records, seq;
  uint64_t requests[TRACE_NR_OPS], op_bytes[TRACE_NR_OPS], failed[TRACE_NR_OPS];
  uint64_t kc_pieces[NR_KCLASS], kc_bytes_read[NR_KCLASS],
    kc_bytes_written[NR_KCLASS];
  uint64_t req_id;
  struct trace_record prev;
  bool have_prev, any_time;
  uint64_t min_ns, max_ns, max_conn;

  /* Every write, zero and trim piece, spooled to a temporary file. */
  FILE *writes;
  uint64_t nwrites;

  /* After agg_finish. */
  size_t *order;                /* objects by first access */
  struct tally kinds[NR_KCLASS];
  struct tally *parts, *dirs, *topdirs;
  size_t nparts, ndirs, ntopdirs;
  size_t *flagged;              /* objects with suspicious reads */
  size_t nflagged;
  uint64_t not_in_map;
};

/* A spooled write. */
struct wrec {
  uint64_t t_ns, conn, offset, length;
  int64_t object_offset;
  uint32_t obj;
  int32_t error;
  uint8_t op;
};

extern int agg_init (struct agg *a, unsigned ndisks, struct grid *grid);
extern int agg_add (struct agg *a, const struct trace_record *rec,
                    char *err, size_t errlen);
/* After the map was joined (joined: objects it lacks are flagged). */
extern int agg_finish (struct agg *a, bool joined);
/* Calls fn for every spooled write, in trace order. */
extern int agg_foreach_write (struct agg *a,
                              int (*fn) (void *, const struct wrec *),
                              void *opaque);
extern void agg_free (struct agg *a);
extern struct robj *agg_find (struct agg *a, unsigned disk, char kind,
                              const char *device, const char *path,
                              uint64_t inode);
extern double robj_coverage (const struct robj *o, uint64_t *distinct);

/* Reads a whole trace into an aggregate, printing errors. */
extern int agg_read_trace (struct agg *a, struct trace_reader *r,
                           const char *path);

/* ---- The map and provenance (map.c, sha256.c) ---- */

struct rimage {
  unsigned disk;
  char *path;                   /* as found, or NULL */
  char *format;
  uint64_t size;
  int64_t mtime;                /* recorded when the trace started, or -1 */
  char sha256[65];              /* "" if not computed */
  char *note;                   /* why not, or what to watch */
};

struct report {
  const char *trace_path;
  struct trace_reader reader;
  struct agg agg;
  struct grid grid;
  /* Map provenance. */
  const char *map_path;
  char map_created[64], map_tool_version[64];
  bool map_hashes;              /* the map has a hashes table: report them */
  unsigned ndisks;
  uint64_t *disk_size;
  char **disk_device;
  struct rimage *images;
  struct partition *parts;
  size_t nparts;
  char **warnings;
  size_t nwarnings;
  unsigned top;                 /* rows of the long text tables, 0: all */
};

/* file.c: a report's output, "-" for standard output, else
 * written beside PATH and renamed into place by report_file_close,
 * which takes the writer's result.  Both give their message.
 */
struct report_file {
  FILE *fp;
  const char *path;
  bool std;                     /* standard output */
  struct atomic_file out;       /* else: common/atomic-file.h */
};
extern int report_file_open (struct report_file *rf, const char *path);
extern int report_file_close (struct report_file *rf, int r);

extern int report_map_open (struct report *rep, struct vbm_map **map,
                            const char *path);
extern int report_map_join (struct report *rep, struct vbm_map *map);
extern void report_images (struct report *rep, struct vbm_map *map,
                           bool checksum);
extern void report_warn (struct report *rep, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
extern void report_free (struct report *rep);

/* sha256.c: the file's SHA-256 in hex; -1 with err set if it fails. */
extern int sha256_file (const char *path, char hex[65], char *err,
                        size_t errlen);

/* ---- Outputs ---- */

extern void fmt_seconds (char *buf, size_t len, uint64_t ns);
extern void fmt_bytes (char *buf, size_t len, uint64_t bytes);
/* Names for the terminal: control characters escaped. */
extern void text_name (FILE *fp, const char *s);
extern const char *flag_words (unsigned flags, char *buf, size_t len);

extern int report_text (struct report *rep, FILE *fp);
extern int report_json (struct report *rep, FILE *fp);
extern int report_html (struct report *rep, FILE *fp);

/* HTML-escapes untrusted text (file names are bytes): markup, control
 * characters, bytes that are not UTF-8 and bidirectional overrides
 * are shown as escapes.  In SVG (markup false) without any tags.
 */
extern void html_text (FILE *fp, const char *s, bool markup);
extern void svg_timeline (struct report *rep, FILE *fp);
extern void svg_bars (FILE *fp, const char *id, const char *title,
                      const char *axis, const struct tally *t, size_t n,
                      size_t max_bars);
extern const char *const kclass_colours[NR_KCLASS + 1];

extern int report_diff (const char *path1, const char *path2,
                        const char *json, const char *html, bool quiet,
                        unsigned top);

/* prefetch.c: --prefetch PLAN TRACE... */
extern int report_prefetch (const char *plan, char **traces, int ntraces);

#endif /* BMAPLOG_REPORT_H */
