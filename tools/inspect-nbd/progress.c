/* Messages on stderr, and while inspecting a status line of what the
 * server has done (bytes served, xz blocks decompressed), redrawn a
 * few times a second, only when stderr is a terminal.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include "inspect-nbd.h"
#include "backend-source.h"

/* Serialises stderr between the server's threads and the status line. */
static pthread_mutex_t stderr_lock = PTHREAD_MUTEX_INITIALIZER;
static bool line_shown;

/* Called with stderr_lock held. */
static void
clear_line (void)
{
  if (line_shown) {
    fputs ("\r\033[K", stderr);
    line_shown = false;
  }
}

void
message (const char *fs, ...)
{
  va_list args;

  pthread_mutex_lock (&stderr_lock);
  clear_line ();
  fprintf (stderr, "%s: ", PROG);
  va_start (args, fs);
  vfprintf (stderr, fs, args);
  va_end (args);
  fputc ('\n', stderr);
  pthread_mutex_unlock (&stderr_lock);
}

static void
draw (uint64_t served, const struct vbm_source_stats *st)
{
  pthread_mutex_lock (&stderr_lock);
  fprintf (stderr, "\r%s: %.1f MiB served", PROG, served / 1048576.0);
  if (st->blocks_decoded)
    fprintf (stderr, ", %" PRIu64 " xz blocks decompressed (%.1f MiB)",
             st->blocks_decoded, st->bytes_decoded / 1048576.0);
  if (st->restarts)
    fprintf (stderr, ", %" PRIu64 " decoder restarts", st->restarts);
  fputs ("\033[K", stderr);
  fflush (stderr);
  line_shown = true;
  pthread_mutex_unlock (&stderr_lock);
}

static void *
progress_thread (void *arg)
{
  struct progress *p = arg;
  uint64_t last_served = 0, last_blocks = 0;

  pthread_mutex_lock (&p->lock);
  while (!p->stop) {
    struct vbm_source_stats st = VBM_SOURCE_STATS_INIT;
    struct timespec ts;
    uint64_t served;

    clock_gettime (CLOCK_REALTIME, &ts);
    ts.tv_nsec += 250 * 1000 * 1000;
    if (ts.tv_nsec >= 1000 * 1000 * 1000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000 * 1000 * 1000;
    }
    pthread_cond_timedwait (&p->wake, &p->lock, &ts);
    if (p->stop)
      break;
    nbds_source_progress (p->handle, &served, &st);
    if (served != last_served || st.blocks_decoded != last_blocks)
      draw (served, &st);
    last_served = served;
    last_blocks = st.blocks_decoded;
  }
  pthread_mutex_unlock (&p->lock);
  return NULL;
}

void
progress_start (struct progress *p, void *handle, bool enable)
{
  p->running = false;
  p->stop = false;
  p->handle = handle;
  if (!enable || !isatty (STDERR_FILENO))
    return;
  pthread_mutex_init (&p->lock, NULL);
  pthread_cond_init (&p->wake, NULL);
  /* Without the thread there is just no status line. */
  p->running = pthread_create (&p->thread, NULL, progress_thread, p) == 0;
  if (!p->running) {
    pthread_cond_destroy (&p->wake);
    pthread_mutex_destroy (&p->lock);
  }
}

void
progress_stop (struct progress *p)
{
  if (!p->running)
    return;
  pthread_mutex_lock (&p->lock);
  p->stop = true;
  pthread_cond_signal (&p->wake);
  pthread_mutex_unlock (&p->lock);
  pthread_join (p->thread, NULL);
  pthread_cond_destroy (&p->wake);
  pthread_mutex_destroy (&p->lock);
  p->running = false;
  pthread_mutex_lock (&stderr_lock);
  clear_line ();
  pthread_mutex_unlock (&stderr_lock);
}
