/* The writer thread: the only one that writes the log and the trace,
 * so no request ever waits for a write(2).  Request threads queue
 * their text; the writer takes all of it at once, in batches of up to
 * FLUSH_DELAY_MS, and writes it outside the lock.
 */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <time.h>

#include "internal.h"

/* Write at once past this much queued text... */
#define WAKE_BYTES (256 * 1024)
/* ...else at most this long after text was queued (a human may be
 * watching the log).
 */
#define FLUSH_DELAY_MS 100
/* Requests wait when the writer is this far behind (a slow disk or a
 * log piped to a slow reader): memory stays bounded.
 */
#define PENDING_MAX (64 * 1024 * 1024)

static bool
all_empty (const struct tracer *t)
{
  return t->log_sink.pending.len == 0 && t->trace_sink.pending.len == 0;
}

static bool
enough (const struct tracer *t)
{
  return t->log_sink.pending.len >= WAKE_BYTES ||
    t->trace_sink.pending.len >= WAKE_BYTES;
}

/* Called with out_lock held. */
static int
queue (struct tracer *t, struct sink *s, const char *p, size_t len)
{
  size_t before = s->pending.len;

  if (s->fp == NULL || len == 0 || s->error)
    return 0;
  if (text_room (&s->pending, len) == -1)
    return -1;
  text_mem (&s->pending, p, len);
  /* Wake the writer when text appears and when there is a lot. */
  if (before == 0 || (before < WAKE_BYTES && s->pending.len >= WAKE_BYTES))
    pthread_cond_signal (&t->wake);
  return 0;
}

/* Writes out a sink's text (without the lock); the error, if any. */
static int
write_out (struct sink *s)
{
  int err = 0;

  errno = 0;
  if (s->writing.len > 0 && !s->error &&
      (fwrite (s->writing.ptr, 1, s->writing.len, s->fp) != s->writing.len ||
       fflush (s->fp) == EOF))
    err = errno ? errno : EIO;
  s->writing.len = 0;
  return err;
}

static void
swap (text *a, text *b)
{
  text tmp = *a;

  *a = *b;
  *b = tmp;
}

/* Takes the queued text and writes it, without the lock if another
 * thread may queue meanwhile.  Called with out_lock held.
 */
static void
write_pending (struct tracer *t)
{
  int e1, e2;

  swap (&t->log_sink.pending, &t->log_sink.writing);
  swap (&t->trace_sink.pending, &t->trace_sink.writing);
  pthread_cond_broadcast (&t->room);
  if (t->writer_started)
    pthread_mutex_unlock (&t->out_lock);
  e1 = write_out (&t->log_sink);
  e2 = write_out (&t->trace_sink);
  if (t->writer_started)
    pthread_mutex_lock (&t->out_lock);
  /* After an error the sink takes no more text. */
  if (e1 && !t->log_sink.error)
    t->log_sink.error = e1;
  if (e2 && !t->trace_sink.error)
    t->trace_sink.error = e2;
}

static void *writer_thread (void *arg);

/* Started by the first request, not before: a daemon forks after the
 * tracer is set up, and threads do not survive fork.  Called with
 * out_lock held.
 */
static void
start_thread (struct tracer *t)
{
  sigset_t all, old;
  int r;

  /* Signals are for the server's threads: a write must not be
   * interrupted.
   */
  sigfillset (&all);
  pthread_sigmask (SIG_BLOCK, &all, &old);
  r = pthread_create (&t->writer, NULL, writer_thread, t);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  if (r == 0)
    t->writer_started = true;
  else
    t->writer_failed = true;
}

int
writer_put (struct tracer *t, const char *log, size_t log_len,
            const char *trace, size_t trace_len)
{
  int r = 0;

  pthread_mutex_lock (&t->out_lock);
  if (!t->writer_started && !t->writer_failed)
    start_thread (t);
  while (t->log_sink.pending.len + t->trace_sink.pending.len > PENDING_MAX)
    pthread_cond_wait (&t->room, &t->out_lock);
  if (queue (t, &t->log_sink, log, log_len) == -1 ||
      queue (t, &t->trace_sink, trace, trace_len) == -1)
    r = -1;
  /* Without a writer thread, write in place. */
  if (t->writer_failed)
    write_pending (t);
  pthread_mutex_unlock (&t->out_lock);
  return r;
}

static void *
writer_thread (void *arg)
{
  struct tracer *t = arg;

  pthread_mutex_lock (&t->out_lock);
  for (;;) {
    struct timespec deadline;

    while (!t->stopping && all_empty (t))
      pthread_cond_wait (&t->wake, &t->out_lock);
    /* Let a batch gather, unless there is plenty already. */
    clock_gettime (CLOCK_MONOTONIC, &deadline);
    deadline.tv_nsec += FLUSH_DELAY_MS * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000L;
    }
    while (!t->stopping && !enough (t))
      if (pthread_cond_timedwait (&t->wake, &t->out_lock, &deadline) ==
          ETIMEDOUT)
        break;
    if (all_empty (t)) {
      if (t->stopping)
        break;
      continue;
    }
    write_pending (t);
  }
  pthread_mutex_unlock (&t->out_lock);
  return NULL;
}

void
writer_init (struct tracer *t)
{
  pthread_condattr_t attr;

  t->log_sink.fp = t->log;
  t->trace_sink.fp = t->trace;
  pthread_mutex_init (&t->out_lock, NULL);
  pthread_cond_init (&t->room, NULL);
  /* The batch deadline is on the monotonic clock. */
  pthread_condattr_init (&attr);
  pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
  pthread_cond_init (&t->wake, &attr);
  pthread_condattr_destroy (&attr);
}

void
writer_stop (struct tracer *t)
{
  if (t->writer_started) {
    pthread_mutex_lock (&t->out_lock);
    t->stopping = true;
    pthread_cond_signal (&t->wake);
    pthread_mutex_unlock (&t->out_lock);
    pthread_join (t->writer, NULL);
    t->writer_started = false;
  }
}

void
writer_free (struct tracer *t)
{
  text_reset (&t->log_sink.pending);
  text_reset (&t->log_sink.writing);
  text_reset (&t->trace_sink.pending);
  text_reset (&t->trace_sink.writing);
  pthread_cond_destroy (&t->wake);
  pthread_cond_destroy (&t->room);
  pthread_mutex_destroy (&t->out_lock);
}
