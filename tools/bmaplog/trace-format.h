/* The trace format: the only contract between the tracer (tracer/),
 * which writes traces, and the report (report/), which reads them.
 * Every name of the format is spelled here once; both sides expand
 * these tables instead of repeating the names.
 *
 * A trace is a header (the run's provenance) then one record per
 * request piece, as JSON Lines (one object per line, the header an
 * object with TRACE_MAGIC) or TSV (the header as "#key\tvalue..."
 * lines, the last one the column names, then one record per line).
 */
#ifndef BMAPLOG_TRACE_FORMAT_H
#define BMAPLOG_TRACE_FORMAT_H

/* The version the header gives with TRACE_MAGIC. */
#define TRACE_VERSION 1

/* The operations: ID, name in the trace. */
#define TRACE_OPS(X)                            \
  X (READ, "read")                              \
  X (WRITE, "write")                            \
  X (TRIM, "trim")                              \
  X (ZERO, "zero")                              \
  X (CACHE, "cache")                            \
  X (FLUSH, "flush")

/* A record's fields, in the order written: ID, key (JSON) or column
 * name (TSV).  Readers accept any order in JSON; TSV columns are in
 * this order.
 */
#define TRACE_FIELDS(X)                         \
  X (T_NS, "t_ns")                              \
  X (CONN, "conn")                              \
  X (OP, "op")                                  \
  X (DISK, "disk")                              \
  X (OFFSET, "offset")                          \
  X (LENGTH, "length")                          \
  X (KIND, "kind")                              \
  X (DEVICE, "device")                          \
  X (PATH, "path")                              \
  X (INODE, "inode")                            \
  X (OBJECT_OFFSET, "object_offset")            \
  X (ERROR, "error")                            \
  X (FORMER, "former")

/* The header's keys.  JSON: {MAGIC, VERSION, START, MODE, MAP: {PATH,
 * CREATED, TOOL_VERSION}, IMAGES: [{DISK, PATH, FORMAT, SIZE, MTIME}]}.
 * TSV: "#MAGIC", "#VERSION", "#START", "#MODE" lines with one value,
 * "#MAP\tpath\tcreated\ttool_version", "#IMAGE\tdisk\tpath\tformat\t
 * size\tmtime" per image.
 */
#define TRACE_MAGIC "bmaplog_trace"
#define TRACE_H_VERSION "version"       /* of the tool that wrote it */
#define TRACE_H_START "start"           /* wall clock of t_ns 0 */
#define TRACE_H_MODE "mode"             /* ro, cow or rw */
#define TRACE_H_MAP "map"
#define TRACE_H_IMAGES "images"         /* JSON */
#define TRACE_H_IMAGE "image"           /* TSV: one line per image */
#define TRACE_H_PATH "path"
#define TRACE_H_CREATED "created"
#define TRACE_H_TOOL_VERSION "tool_version"
#define TRACE_H_DISK "disk"
#define TRACE_H_FORMAT "format"
#define TRACE_H_SIZE "size"
#define TRACE_H_MTIME "mtime"

/* A missing value: JSON null, TSV "-". */
#define TRACE_TSV_NONE "-"

enum trace_op {
#define TRACE_OP_ENUM(id, name) TRACE_OP_##id,
  TRACE_OPS (TRACE_OP_ENUM)
#undef TRACE_OP_ENUM
  TRACE_NR_OPS
};

enum trace_field {
#define TRACE_FIELD_ENUM(id, name) TRACE_F_##id,
  TRACE_FIELDS (TRACE_FIELD_ENUM)
#undef TRACE_FIELD_ENUM
  TRACE_NR_FIELDS
};

extern const char *const trace_op_names[TRACE_NR_OPS];
extern const char *const trace_field_names[TRACE_NR_FIELDS];

/* The operation or field called s, or -1.  Fields are usually met in
 * the order written: the one after hint is tried first.
 */
extern int trace_op_find (const char *s);
extern int trace_field_find (const char *s, int hint);

#endif /* BMAPLOG_TRACE_FORMAT_H */
