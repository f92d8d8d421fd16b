/* bmaplog: serve disks over NBD and log every request as the objects
 * it touched, using the map's in-memory index.
 */
#ifndef BMAPLOG_H
#define BMAPLOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "virtbmap.h"
#include "nbdserver.h"

#define PROG "bmaplog"

enum trace_format { TRACE_JSONL, TRACE_TSV };

/* One request cut at object boundaries: what the log and trace see. */
struct piece {
  uint64_t t_ns;                /* since the tracer started */
  uint64_t conn;
  const char *op;               /* read, write, trim, zero, cache, flush */
  unsigned disk;
  uint64_t offset, length;      /* disk range */
  int error;                    /* errno of the reply */
  const struct vbm_hit *hit;    /* NULL if no object is mapped there */
  int64_t object_offset;        /* offset of the piece inside it, or -1 */
};

struct tracer {
  struct vbm_index *index;
  pthread_mutex_t lock;         /* serialises the outputs */
  uint64_t start_ns;
  FILE *log;                    /* human log, or NULL */
  FILE *trace;                  /* machine-readable trace, or NULL */
  enum trace_format trace_format;
  /* The human log's current heading, to group requests under it. */
  bool have_heading;
  char heading_op[8];
  unsigned heading_disk;
  int64_t heading_object;
  uint64_t requests, pieces;
};

/* What the trace header records: the provenance of the run. */
struct trace_info {
  const char *map_path;
  struct vbm_map *map;
  char **disks;
  int ndisks;
  enum nbds_file_mode mode;
};

/* tracer.c: the server's request hook. */
extern void tracer_hook (void *opaque, const struct nbds_request_info *req);
extern uint64_t tracer_now_ns (void);

/* output.c: called with the tracer's lock held. */
extern void output_log_piece (struct tracer *t, const struct piece *p);
extern void output_trace_header (struct tracer *t,
                                 const struct trace_info *info);

/* report-main.c: bmaplog report, the reports made from traces. */
extern int report_main (int argc, char *argv[]);
extern void output_trace_piece (struct tracer *t, const struct piece *p);

#endif /* BMAPLOG_H */
