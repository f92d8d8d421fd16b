/* A bounded byte pipe to one consumer thread.
 *
 * The map store uses it to write the map's tables in a second thread
 * while the mappers read filesystem metadata in the first, so the two
 * overlap on two cores.
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "hugepages.h"
#include "pipe.h"

#define PIPE_CHUNK VBM_PIPE_CHUNK
#define PIPE_CHUNKS VBM_PIPE_CHUNKS
/* Besides the queued: one being filled, one being consumed. */
#define ARENA_CHUNKS (PIPE_CHUNKS + 2)

struct chunk {
  struct chunk *next;
  size_t len, cap;
  bool in_arena;
  char data[];
};
#define ARENA_STRIDE (sizeof (struct chunk) + PIPE_CHUNK)

struct vbm_pipe {
  vbm_pipe_consumer fn;
  void *opaque;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;          /* queue changed, or the consumer stopped */
  struct chunk *head, *tail;    /* queued chunks, oldest first */
  size_t queued;
  struct chunk *spare;          /* free chunks of the arena */
  char *arena;                  /* the usual chunks, in huge pages */
  bool closing, aborting;
  bool failed;                  /* the consumer returned -1 */
  struct chunk *cur;            /* being filled by the producer */
};

/* Reusing chunks saves a page fault per page.  Called with the lock
 * held.
 */
static void
recycle (struct vbm_pipe *p, struct chunk *c)
{
  if (c->in_arena) {
    c->next = p->spare;
    p->spare = c;
  }
  else
    free (c);
}

static void
drop (struct vbm_pipe *p, struct chunk *c)
{
  if (c) {
    pthread_mutex_lock (&p->lock);
    recycle (p, c);
    pthread_mutex_unlock (&p->lock);
  }
}

static void *
consumer_thread (void *vp)
{
  struct vbm_pipe *p = vp;
  struct chunk *c;

  pthread_mutex_lock (&p->lock);
  for (;;) {
    while (p->head == NULL && !p->closing)
      pthread_cond_wait (&p->cond, &p->lock);
    c = p->head;
    if (c == NULL)
      break;                    /* closing and drained */
    p->head = c->next;
    if (p->head == NULL)
      p->tail = NULL;
    p->queued--;
    pthread_cond_broadcast (&p->cond);
    if (!p->failed && !p->aborting) {
      pthread_mutex_unlock (&p->lock);
      if (p->fn (p->opaque, c->data, c->len) == -1) {
        pthread_mutex_lock (&p->lock);
        p->failed = true;
        pthread_cond_broadcast (&p->cond);
      }
      else
        pthread_mutex_lock (&p->lock);
    }
    recycle (p, c);
  }
  pthread_mutex_unlock (&p->lock);
  return NULL;
}

struct vbm_pipe *
vbm_pipe_start (vbm_pipe_consumer fn, void *opaque)
{
  struct vbm_pipe *p = calloc (1, sizeof *p);
  size_t i;
  int r;

  if (p == NULL)
    return NULL;
  p->fn = fn;
  p->opaque = opaque;
  /* Aligned, so that its first 2 MiB can be one huge page. */
  r = posix_memalign ((void **) &p->arena, 2 << 20,
                      ARENA_CHUNKS * ARENA_STRIDE);
  if (r != 0) {
    free (p);
    errno = r;
    return NULL;
  }
  vbm_advise_huge (p->arena, ARENA_CHUNKS * ARENA_STRIDE);
  for (i = 0; i < ARENA_CHUNKS; ++i) {
    struct chunk *c = (struct chunk *) (p->arena + i * ARENA_STRIDE);

    c->in_arena = true;
    c->next = p->spare;
    p->spare = c;
  }
  pthread_mutex_init (&p->lock, NULL);
  pthread_cond_init (&p->cond, NULL);
  r = pthread_create (&p->thread, NULL, consumer_thread, p);
  if (r != 0) {
    pthread_mutex_destroy (&p->lock);
    pthread_cond_destroy (&p->cond);
    free (p->arena);
    free (p);
    errno = r;
    return NULL;
  }
  return p;
}

/* Hands the current chunk to the consumer, waiting for room. */
static int
push (struct vbm_pipe *p)
{
  struct chunk *c = p->cur;
  bool failed;

  p->cur = NULL;
  if (c == NULL || c->len == 0) {
    drop (p, c);
    return 0;
  }
  pthread_mutex_lock (&p->lock);
  while (p->queued >= PIPE_CHUNKS && !p->failed)
    pthread_cond_wait (&p->cond, &p->lock);
  failed = p->failed;
  if (!failed) {
    if (p->tail)
      p->tail->next = c;
    else
      p->head = c;
    p->tail = c;
    p->queued++;
    pthread_cond_broadcast (&p->cond);
  }
  pthread_mutex_unlock (&p->lock);
  if (failed) {
    drop (p, c);
    return -1;
  }
  return 0;
}

char *
vbm_pipe_reserve (struct vbm_pipe *p, size_t len)
{
  size_t cap;

  if (p->cur && p->cur->cap - p->cur->len >= len)
    return p->cur->data + p->cur->len;
  if (push (p) == -1) {
    errno = EPIPE;
    return NULL;
  }
  /* A record bigger than a chunk (a very long path) gets its own. */
  cap = len > PIPE_CHUNK ? len : PIPE_CHUNK;
  if (cap == PIPE_CHUNK) {
    pthread_mutex_lock (&p->lock);
    p->cur = p->spare;
    if (p->cur)
      p->spare = p->cur->next;
    pthread_mutex_unlock (&p->lock);
  }
  if (p->cur == NULL) {
    if (cap > SIZE_MAX - sizeof *p->cur) {
      errno = ENOMEM;
      return NULL;
    }
    p->cur = malloc (sizeof *p->cur + cap);
    if (p->cur == NULL)
      return NULL;
    p->cur->in_arena = false;
  }
  p->cur->next = NULL;
  p->cur->len = 0;
  p->cur->cap = cap;
  return p->cur->data;
}

void
vbm_pipe_commit (struct vbm_pipe *p, size_t len)
{
  p->cur->len += len;
}

int
vbm_pipe_finish (struct vbm_pipe *p, int abort)
{
  bool failed;

  if (abort) {
    drop (p, p->cur);
    p->cur = NULL;
  }
  else
    push (p);
  pthread_mutex_lock (&p->lock);
  p->closing = true;
  p->aborting = abort;
  pthread_cond_broadcast (&p->cond);
  pthread_mutex_unlock (&p->lock);
  pthread_join (p->thread, NULL);
  failed = p->failed;
  /* Only arena chunks are spare. */
  free (p->arena);
  pthread_mutex_destroy (&p->lock);
  pthread_cond_destroy (&p->cond);
  free (p);
  return failed ? -1 : 0;
}
