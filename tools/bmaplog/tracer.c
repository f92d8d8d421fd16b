/* The request hook: cuts each request at object boundaries using the
 * in-memory index, and hands the pieces to the log and the trace.
 */
#include <config.h>

#include <time.h>

#include "bmaplog.h"

uint64_t
tracer_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const char *
op_name (uint16_t cmd)
{
  switch (cmd) {
  case NBDS_CMD_READ: return "read";
  case NBDS_CMD_WRITE: return "write";
  case NBDS_CMD_TRIM: return "trim";
  case NBDS_CMD_WRITE_ZEROES: return "zero";
  case NBDS_CMD_CACHE: return "cache";
  case NBDS_CMD_FLUSH: return "flush";
  default: return NULL;         /* block status, disconnect: not data */
  }
}

static void
emit (struct tracer *t, const struct piece *p)
{
  if (t->log)
    output_log_piece (t, p);
  if (t->trace)
    output_trace_piece (t, p);
  t->pieces++;
}

void
tracer_hook (void *opaque, const struct nbds_request_info *req)
{
  struct tracer *t = opaque;
  const char *op = op_name (req->cmd);
  struct piece p = {
    .conn = req->conn, .op = op, .disk = req->export_index,
    .error = req->error, .object_offset = -1,
  };
  uint64_t off = req->offset, end = req->offset + req->count;
  struct vbm_hit hit;

  if (op == NULL)
    return;
  p.t_ns = tracer_now_ns () - t->start_ns;

  pthread_mutex_lock (&t->lock);
  t->requests++;
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
    emit (t, &p);
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
    emit (t, &p);
    off += p.length;
  }
  pthread_mutex_unlock (&t->lock);
}
