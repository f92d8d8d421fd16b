/* Unit test of common/pipe.c: every record reaches the consumer whole
 * and in order, records bigger than a chunk too; the producer never
 * runs more than the documented bound ahead; a consumer failure stops
 * the producer with EPIPE; an abort discards what is queued.
 */
#include <config.h>

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipe.h"

/* Records: a 4-byte length, then that many bytes of a pattern. */
struct consumer {
  uint64_t records, bytes;      /* seen by the consumer */
  uint64_t calls, fail_at;      /* fail on call fail_at (0: never) */
  volatile uint64_t produced;   /* bytes committed, set by the producer */
  uint64_t max_ahead;           /* of produced over bytes */
};

static uint8_t
pattern (uint64_t record, size_t i)
{
  return (uint8_t) (record * 7 + i);
}

static int
consume (void *opaque, const char *buf, size_t len)
{
  struct consumer *c = opaque;
  const uint8_t *p = (const uint8_t *) buf;
  uint64_t produced = __atomic_load_n (&c->produced, __ATOMIC_ACQUIRE);

  if (produced - c->bytes > c->max_ahead)
    c->max_ahead = produced - c->bytes;
  if (++c->calls == c->fail_at)
    return -1;
  /* Whole records only: none is cut between two calls. */
  while (len > 0) {
    uint32_t n;
    size_t i;

    assert (len >= 4);
    memcpy (&n, p, 4);
    assert (len >= 4 + (size_t) n);
    for (i = 0; i < n; ++i)
      assert (p[4 + i] == pattern (c->records, i));
    c->records++;
    c->bytes += 4 + n;
    p += 4 + n;
    len -= 4 + n;
  }
  /* A slow consumer, so that the producer fills the queue. */
  if (c->calls % 4 == 0)
    usleep (1000);
  return 0;
}

/* Sends records of the given sizes; returns how many were accepted
 * before the pipe refused one (errno set).
 */
static uint64_t
produce (struct vbm_pipe *p, struct consumer *c, uint64_t nrecords,
         uint32_t (*size_of) (uint64_t))
{
  uint64_t r;

  for (r = 0; r < nrecords; ++r) {
    uint32_t n = size_of (r), i;
    char *q = vbm_pipe_reserve (p, 4 + (size_t) n);

    if (q == NULL)
      return r;
    memcpy (q, &n, 4);
    for (i = 0; i < n; ++i)
      q[4 + i] = pattern (r, i);
    vbm_pipe_commit (p, 4 + n);
    __atomic_store_n (&c->produced, c->produced + 4 + n, __ATOMIC_RELEASE);
  }
  return r;
}

static uint32_t
small (uint64_t r)
{
  return r * 13 % 200;
}

/* Now and then a record bigger than a chunk (a very long path). */
static uint32_t
mixed (uint64_t r)
{
  return r % 97 == 5 ? VBM_PIPE_CHUNK + 1000 + r : r * 13 % 5000;
}

int
main (void)
{
  struct consumer c;
  struct vbm_pipe *p;
  uint64_t n;

  /* Many small records (far more than the queue holds). */
  memset (&c, 0, sizeof c);
  p = vbm_pipe_start (consume, &c);
  assert (p != NULL);
  assert (produce (p, &c, 200000, small) == 200000);
  assert (vbm_pipe_finish (p, 0) == 0);
  assert (c.records == 200000 && c.bytes == c.produced);
  /* The producer waits while PIPE_CHUNKS chunks are queued: it is
   * never more than those, the one being consumed and the one being
   * filled ahead.
   */
  assert (c.max_ahead <= (uint64_t) (VBM_PIPE_CHUNKS + 2) * VBM_PIPE_CHUNK);

  /* Big records among small ones. */
  memset (&c, 0, sizeof c);
  p = vbm_pipe_start (consume, &c);
  assert (p != NULL);
  assert (produce (p, &c, 2000, mixed) == 2000);
  assert (vbm_pipe_finish (p, 0) == 0);
  assert (c.records == 2000 && c.bytes == c.produced);

  /* The consumer fails on its third chunk: the producer is refused
   * with EPIPE, finish says so, nothing after the failure is consumed.
   */
  memset (&c, 0, sizeof c);
  c.fail_at = 3;
  p = vbm_pipe_start (consume, &c);
  assert (p != NULL);
  errno = 0;
  n = produce (p, &c, 10000000, small);
  assert (n < 10000000 && errno == EPIPE);
  assert (vbm_pipe_finish (p, 0) == -1);
  assert (c.calls == 3);

  /* Abort: what is queued is dropped, and it is no failure. */
  memset (&c, 0, sizeof c);
  p = vbm_pipe_start (consume, &c);
  assert (p != NULL);
  assert (produce (p, &c, 50000, small) == 50000);
  assert (vbm_pipe_finish (p, 1) == 0);
  assert (c.bytes <= c.produced);

  /* Nothing at all. */
  memset (&c, 0, sizeof c);
  p = vbm_pipe_start (consume, &c);
  assert (p != NULL && vbm_pipe_finish (p, 0) == 0 && c.calls == 0);

  printf ("test-pipe: ok\n");
  return 0;
}
