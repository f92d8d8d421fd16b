/* The request hook: cuts each request at object boundaries using the
 * in-memory index and formats its pieces for the log and the trace.
 *
 * Tracing must cost the server (almost) nothing, so the work is done
 * where it does not serialise the requests: each server thread formats
 * its request into its own buffers, with no lock held; then one short
 * locked section puts the request in the global order (the human log's
 * grouping is decided there) and copies its text to the outputs'
 * pending buffers, which the writer thread writes out (writer.c).
 *
 * A request's pieces stay together: if they do not fit in the thread's
 * buffers (a huge request over many small objects), the thread takes
 * the lock early and hands over its text in chunks, keeping the lock
 * until the request is done.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* Past this much text, a request hands it over in chunks. */
#define LOCAL_MAX (256 * 1024)

/* A server thread's buffers. */
struct local {
  text log, trace;
};

/* What the human log groups by: operation, disk, object. */
struct heading {
  enum trace_op op;
  unsigned disk;
  int64_t object;
};

/* One request on its way to the outputs. */
struct request {
  struct tracer *t;
  struct local *l;
  bool locked;                  /* the tracer's lock is held */
  bool handed_over;             /* a chunk went out already */
  bool failed;                  /* out of memory: stop formatting */
  uint64_t pieces;
  struct heading first, last;   /* pieces formatted so far */
  size_t first_heading_len;     /* the first piece's heading in l->log */
};

static uint64_t
now_ns (void)
{
  struct timespec ts;

  /* A vDSO call on Linux: no system call. */
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The trace's operation for an NBD command, or -1. */
static int
op_of (uint16_t cmd)
{
  switch (cmd) {
  case NBDS_CMD_READ: return TRACE_OP_READ;
  case NBDS_CMD_WRITE: return TRACE_OP_WRITE;
  case NBDS_CMD_TRIM: return TRACE_OP_TRIM;
  case NBDS_CMD_WRITE_ZEROES: return TRACE_OP_ZERO;
  case NBDS_CMD_CACHE: return TRACE_OP_CACHE;
  case NBDS_CMD_FLUSH: return TRACE_OP_FLUSH;
  default: return -1;           /* block status, disconnect: not data */
  }
}

static void
free_local (void *p)
{
  struct local *l = p;

  text_reset (&l->log);
  text_reset (&l->trace);
  free (l);
}

struct tracer *
tracer_new (struct vbm_index *index, FILE *log, FILE *trace,
            enum trace_format format, const struct trace_info *info)
{
  struct tracer *t = calloc (1, sizeof *t);
  int r;

  if (t == NULL)
    goto fail;
  r = pthread_key_create (&t->local, free_local);
  if (r != 0) {
    free (t);
    errno = r;
    goto fail;
  }
  t->index = index;
  t->log = log;
  t->trace = trace;
  t->trace_format = format;
  pthread_mutex_init (&t->lock, NULL);
  writer_init (t);
  /* The header's wall-clock start is the t_ns origin. */
  t->start_ns = now_ns ();
  if (trace)
    output_trace_header (t, info);
  return t;

 fail:
  r = errno;
  if (log && log != stdout)
    fclose (log);
  if (trace)
    fclose (trace);
  errno = r;
  return NULL;
}

void
tracer_counts (struct tracer *t, uint64_t *requests, uint64_t *pieces)
{
  pthread_mutex_lock (&t->lock);
  *requests = t->requests;
  *pieces = t->pieces;
  pthread_mutex_unlock (&t->lock);
}

/* Frees the calling thread's buffers (no hook may run). */
static void
free_locals (struct tracer *t)
{
  struct local *l;

  /* The threads that exited freed theirs; this one (it served -s or
   * stdio connections itself) has not.
   */
  l = pthread_getspecific (t->local);
  if (l) {
    pthread_setspecific (t->local, NULL);
    free_local (l);
  }
  /* The key is not deleted: a connection thread that has left the
   * server but not yet exited still frees its buffers through the
   * key's destructor, which pthread_key_delete would skip (a leak
   * LeakSanitizer saw at exit).  One key slot a process is the cost.
   */
}

/* The outcome, on stderr: what the log and trace are missing. */
static int
close_outputs (struct tracer *t)
{
  int r = 0;

  if (t->error) {
    fprintf (stderr, "%s: %s: the log and trace are incomplete\n",
             PROG, strerror (t->error));
    r = -1;
  }
  if (t->log_sink.error) {
    fprintf (stderr, "%s: log: %s\n", PROG, strerror (t->log_sink.error));
    r = -1;
  }
  if (t->trace_sink.error) {
    fprintf (stderr, "%s: trace: %s\n", PROG,
             strerror (t->trace_sink.error));
    r = -1;
  }
  if (t->log && fflush (t->log) == EOF && !t->log_sink.error) {
    fprintf (stderr, "%s: log: %s\n", PROG, strerror (errno));
    r = -1;
  }
  if (t->log && t->log != stdout)
    fclose (t->log);
  if (t->trace && fclose (t->trace) == EOF && !t->trace_sink.error) {
    fprintf (stderr, "%s: trace: %s\n", PROG, strerror (errno));
    r = -1;
  }
  t->log = t->trace = NULL;
  return r;
}

int
tracer_close (struct tracer *t, bool idle)
{
  int r;

  /* The writer writes what is queued: then the sinks' errors are
   * final.
   */
  writer_stop (t);
  r = close_outputs (t);
  if (idle) {
    writer_free (t);
    free_locals (t);
    pthread_mutex_destroy (&t->lock);
    free (t);
  }
  return r;
}

static struct local *
get_local (struct tracer *t)
{
  struct local *l = pthread_getspecific (t->local);

  if (l == NULL) {
    l = calloc (1, sizeof *l);
    if (l == NULL)
      return NULL;
    if (pthread_setspecific (t->local, l) != 0) {
      free (l);
      return NULL;
    }
  }
  return l;
}

static bool
same_heading (const struct heading *a, const struct heading *b)
{
  return a->op == b->op && a->disk == b->disk && a->object == b->object;
}

/* Hands the text formatted so far to the outputs, in the global order
 * (the lock is held).  Only the request's first piece needs the global
 * state to know whether it starts a new heading.
 */
static void
hand_over (struct request *r)
{
  struct tracer *t = r->t;
  struct local *l = r->l;
  size_t skip = 0;

  if (r->pieces > 0) {
    if (t->log && !r->handed_over) {
      const struct heading current = {
        t->heading_op, t->heading_disk, t->heading_object
      };
      if (t->have_heading && same_heading (&r->first, &current))
        skip = r->first_heading_len;
    }
    if (writer_put (t, l->log.ptr + skip, l->log.len - skip,
                    l->trace.ptr, l->trace.len) == -1)
      r->failed = true;
    t->have_heading = true;
    t->heading_op = r->last.op;
    t->heading_disk = r->last.disk;
    t->heading_object = r->last.object;
    r->handed_over = true;
  }
  l->log.len = l->trace.len = 0;
}

static void
lock (struct request *r)
{
  if (!r->locked) {
    pthread_mutex_lock (&r->t->lock);
    r->locked = true;
  }
}

/* Formats one piece into the thread's buffers. */
static void
add_piece (struct request *r, const struct piece *p)
{
  struct tracer *t = r->t;
  struct local *l = r->l;
  const struct heading h = { p->op, p->disk, p->hit ? p->hit->object_id : -1 };
  bool first = r->pieces == 0 && !r->handed_over;

  if (r->failed)
    return;
  /* The trace first: it starts with numbers, while the path (which
   * the index started fetching) may still be on its way.
   */
  if (t->trace && output_trace_piece (&l->trace, t->trace_format, p) == -1)
    goto fail;
  if (t->log) {
    /* The first piece gets its heading for now: the locked section
     * drops it if the log's current heading is the same.
     */
    if ((first || !same_heading (&r->last, &h)) &&
        output_log_heading (&l->log, p) == -1)
      goto fail;
    if (first)
      r->first_heading_len = l->log.len;
    if (output_log_line (&l->log, p) == -1)
      goto fail;
  }
  if (first)
    r->first = h;
  r->last = h;
  r->pieces++;
  if (l->log.len + l->trace.len > LOCAL_MAX) {
    lock (r);
    hand_over (r);
  }
  return;

 fail:
  r->failed = true;
}

void
tracer_hook (void *opaque, const struct nbds_request_info *req)
{
  struct tracer *t = opaque;
  const int op = op_of (req->cmd);
  struct piece p = {
    .conn = req->conn, .op = op, .disk = req->export_index,
    .error = req->error, .object_offset = -1,
  };
  struct request r = { .t = t };
  uint64_t off = req->offset, end = req->offset + req->count;
  uint64_t total = 0;
  struct vbm_hit hit = VBM_HIT_INIT;

  if (op == -1)
    return;
  p.t_ns = now_ns () - t->start_ns;
  if (t->log || t->trace) {
    r.l = get_local (t);
    if (r.l == NULL)
      r.failed = true;
    else
      r.l->log.len = r.l->trace.len = 0;
  }

  /* A flush has no range; a failed request touched nothing, and a
   * hostile client's huge failed requests must not cost a piece per
   * object: one piece each.
   */
  if (req->cmd == NBDS_CMD_FLUSH || req->count == 0 || req->error) {
    p.offset = req->offset;
    p.length = req->count;
    if (req->count && vbm_index_lookup (t->index, p.disk, off, &hit) == 0) {
      p.hit = &hit;
      p.object_offset = hit.object_offset >= 0
        ? hit.object_offset + (int64_t) (off - hit.start) : -1;
    }
    if (r.l)
      add_piece (&r, &p);
    total++;
    end = off;
  }
  /* One piece per object the range crosses. */
  while (off < end) {
    p.offset = off;
    if (vbm_index_lookup (t->index, p.disk, off, &hit) == 0) {
      p.hit = &hit;
      p.length = (hit.end < end ? hit.end : end) - off;
      p.object_offset = hit.object_offset >= 0
        ? hit.object_offset + (int64_t) (off - hit.start) : -1;
    }
    else {
      /* Beyond the map: nothing to name. */
      p.hit = NULL;
      p.length = end - off;
      p.object_offset = -1;
    }
    if (r.l)
      add_piece (&r, &p);
    total++;
    off += p.length;
  }

  lock (&r);
  if (r.l)
    hand_over (&r);
  if (r.failed && t->error == 0)
    t->error = ENOMEM;
  t->requests++;
  t->pieces += total;
  pthread_mutex_unlock (&t->lock);
}
