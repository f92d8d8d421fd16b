/* The tracer: the NBD server's request hook, which cuts every request
 * at object boundaries with the map's in-memory index and writes the
 * pieces to the human log and the trace (trace-format.h).
 */
#ifndef BMAPLOG_TRACER_H
#define BMAPLOG_TRACER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "virtbmap.h"
#include "nbdserver.h"

enum trace_format { TRACE_JSONL, TRACE_TSV };

/* What the trace header records: the provenance of the run. */
struct trace_info {
  const char *map_path;
  struct vbm_map *map;
  char **disks;
  int ndisks;
  enum nbds_file_mode mode;
};

struct tracer;

/* A tracer writing to log and trace (either may be NULL for none; log
 * may be stdout), which are its own from now on, even if this fails.
 * The index is borrowed: it must outlive the tracer.  The trace header
 * is written now, and t_ns counts from now.  NULL with errno set on
 * failure.
 */
extern struct tracer *tracer_new (struct vbm_index *index, FILE *log,
                                  FILE *trace, enum trace_format format,
                                  const struct trace_info *info);

/* The server's request hook: opaque is the tracer. */
extern void tracer_hook (void *opaque, const struct nbds_request_info *req);

/* Requests and pieces traced so far. */
extern void tracer_counts (struct tracer *t, uint64_t *requests,
                           uint64_t *pieces);

/* Writes what is queued, closes the log and trace, and says on stderr
 * what went wrong; -1 if they are incomplete.  idle: no hook can run
 * any more, so the tracer is freed.  Otherwise a request is stuck in
 * the server and may still call the hook as the process exits: the
 * tracer's memory stays.
 */
extern int tracer_close (struct tracer *t, bool idle);

#endif /* BMAPLOG_TRACER_H */
