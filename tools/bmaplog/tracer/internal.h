/* The tracer's parts (tracer.c, output.c, writer.c) and what they
 * share; main.c sees only tracer.h.
 */
#ifndef BMAPLOG_TRACER_INTERNAL_H
#define BMAPLOG_TRACER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bmaplog.h"
#include "tracer.h"
#include "text.h"
#include "trace-format.h"

/* One request cut at object boundaries: what the log and trace see. */
struct piece {
  uint64_t t_ns;                /* since the tracer started */
  uint64_t conn;
  enum trace_op op;
  unsigned disk;
  uint64_t offset, length;      /* disk range */
  int error;                    /* errno of the reply */
  const struct vbm_hit *hit;    /* NULL if no object is mapped there */
  int64_t object_offset;        /* offset of the piece inside it, or -1 */
};

/* An output: request threads append their formatted text to pending
 * under the writer's lock; the writer thread swaps it out and writes it
 * to fp without the lock (writer.c).
 */
struct sink {
  FILE *fp;
  text pending;
  text writing;                 /* the writer thread's */
  int error;                    /* the first write error, or 0 */
};

struct tracer {
  /* Set before serving, read-only after. */
  struct vbm_index *index;
  uint64_t start_ns;
  FILE *log;                    /* human log, or NULL */
  FILE *trace;                  /* machine-readable trace, or NULL */
  enum trace_format trace_format;
  pthread_key_t local;          /* each request thread's buffers */
  /* The global order of requests: the lock guards what follows up to
   * writer.c's part.  The human log's current heading, to group
   * requests under it.
   */
  pthread_mutex_t lock;
  bool have_heading;
  enum trace_op heading_op;
  unsigned heading_disk;
  int64_t heading_object;
  uint64_t requests, pieces;
  int error;                    /* formatting ran out of memory */
  /* writer.c.  Its lock is taken inside the tracer's lock, so a
   * request waiting for room keeps its place in the order.
   */
  pthread_mutex_t out_lock;     /* the sinks, stopping */
  struct sink log_sink, trace_sink;
  pthread_cond_t wake;          /* the writer: text is waiting, or stop */
  pthread_cond_t room;          /* request threads: pending shrank */
  pthread_t writer;
  bool writer_started, writer_failed, stopping;
};

/* output.c: formatting, on the request's thread; -1 if out of memory. */
extern int output_log_heading (text *out, const struct piece *p);
extern int output_log_line (text *out, const struct piece *p);
extern void output_trace_header (struct tracer *t,
                                 const struct trace_info *info);
extern int output_trace_piece (text *out, enum trace_format format,
                               const struct piece *p);

/* writer.c: the writer thread, started by the first request. */
extern void writer_init (struct tracer *t);
/* Queues a request's log and trace text (called with the tracer's lock
 * held; waits while too much is queued).  -1 if out of memory.
 */
extern int writer_put (struct tracer *t, const char *log, size_t log_len,
                       const char *trace, size_t trace_len);
/* Writes what is queued and joins the thread; then the sinks' errors
 * are final.
 */
extern void writer_stop (struct tracer *t);
/* Frees the queues and locks (no request may run any more). */
extern void writer_free (struct tracer *t);

#endif /* BMAPLOG_TRACER_INTERNAL_H */
