/* The hash stage's digests, one thread per algorithm.
 *
 * The reading thread (hash.c) fills a batch: a CHUNK-byte buffer read
 * from the disk and the commands for it (start a file's digest, feed
 * it bytes of the buffer, zeroes or a few bytes copied into the batch,
 * end it).  Submitted batches are worked through in order by every
 * worker, each for its own algorithm (MD5, SHA-1 and SHA-256 at once on
 * as many CPUs, while the next chunk is read); a batch is filled again
 * once all have finished it.  NBATCH batches bound the memory.
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

#define NBATCH 4

enum { CMD_OPEN, CMD_DATA, CMD_SIDE, CMD_ZEROES, CMD_CLOSE };

struct cmd {
  uint8_t op;
  int32_t slot;
  uint64_t off, len;            /* bytes of buf or side; zeroes: len */
  unsigned char *out;           /* CMD_CLOSE: the file's digests, or NULL */
};
DEFINE_VECTOR_TYPE (cmd_vector, struct cmd);
DEFINE_VECTOR_TYPE (byte_vector, unsigned char);

struct batch {
  unsigned char *buf;
  cmd_vector cmds;
  byte_vector side;             /* small copies (NTFS resident data) */
  unsigned pending;             /* workers yet to finish it */
};

struct worker {
  struct hash_workers *w;
  unsigned algo;                /* index in hash_algos */
  gnutls_hash_hd_t *ctx;        /* per slot */
  pthread_t thread;
  bool started;
};

struct hash_workers {
  pthread_mutex_t lock;
  pthread_cond_t work, done;
  struct batch batches[NBATCH];
  uint64_t submitted;           /* batches handed over so far */
  struct batch *cur;            /* being filled */
  bool stop;
  int failed;                   /* a digest could not start */
  bool nomem;                   /* a command could not be kept */
  size_t nslots;
  struct worker workers[VBM_NR_HASHES];
  unsigned nworkers;
};

static const unsigned char zeroes[64 << 10];

static void
run_batch (struct worker *k, const struct batch *b)
{
  const struct hash_algo *a = &hash_algos[k->algo];
  size_t i;

  for (i = 0; i < b->cmds.len; ++i) {
    const struct cmd *c = &b->cmds.ptr[i];
    gnutls_hash_hd_t *h = &k->ctx[c->slot];
    uint64_t n;

    switch (c->op) {
    case CMD_OPEN:
      if (gnutls_hash_init (h, a->gnutls) < 0) {
        *h = NULL;
        k->w->failed = 1;       /* read by the main thread after joining */
      }
      break;
    case CMD_DATA:
      if (*h)
        gnutls_hash (*h, b->buf + c->off, c->len);
      break;
    case CMD_SIDE:
      if (*h)
        gnutls_hash (*h, b->side.ptr + c->off, c->len);
      break;
    case CMD_ZEROES:
      for (n = c->len; *h && n > 0;) {
        size_t m = n < sizeof zeroes ? n : sizeof zeroes;

        gnutls_hash (*h, zeroes, m);
        n -= m;
      }
      break;
    case CMD_CLOSE:
      if (*h)
        gnutls_hash_deinit (*h, c->out ? c->out + a->at : NULL);
      *h = NULL;
      break;
    }
  }
}

static void *
worker_main (void *opaque)
{
  struct worker *k = opaque;
  struct hash_workers *w = k->w;
  uint64_t seq;
  struct batch *b;

  for (seq = 0;; seq++) {
    pthread_mutex_lock (&w->lock);
    while (seq >= w->submitted && !w->stop)
      pthread_cond_wait (&w->work, &w->lock);
    if (seq >= w->submitted) {
      pthread_mutex_unlock (&w->lock);
      return NULL;
    }
    b = &w->batches[seq % NBATCH];
    pthread_mutex_unlock (&w->lock);
    run_batch (k, b);
    pthread_mutex_lock (&w->lock);
    if (--b->pending == 0)
      pthread_cond_signal (&w->done);
    pthread_mutex_unlock (&w->lock);
  }
}

static void
free_workers (struct hash_workers *w)
{
  size_t i;

  for (i = 0; i < NBATCH; ++i) {
    free (w->batches[i].buf);
    free (w->batches[i].cmds.ptr);
    free (w->batches[i].side.ptr);
  }
  for (i = 0; i < VBM_NR_HASHES; ++i)
    free (w->workers[i].ctx);
  pthread_mutex_destroy (&w->lock);
  pthread_cond_destroy (&w->work);
  pthread_cond_destroy (&w->done);
  free (w);
}

/* Stops the workers after the batches submitted; -1 if a digest failed. */
static int
stop_workers (struct hash_workers *w)
{
  size_t i, j;

  pthread_mutex_lock (&w->lock);
  w->stop = true;
  pthread_cond_broadcast (&w->work);
  pthread_mutex_unlock (&w->lock);
  for (i = 0; i < w->nworkers; ++i) {
    struct worker *k = &w->workers[i];

    if (!k->started)
      continue;
    pthread_join (k->thread, NULL);
    /* Only if the stage stopped with files open. */
    for (j = 0; j < w->nslots; ++j)
      if (k->ctx[j])
        gnutls_hash_deinit (k->ctx[j], NULL);
  }
  return w->failed ? -1 : 0;
}

struct hash_workers *
hash_workers_start (unsigned algorithms, size_t nslots, size_t bufsize,
                    struct vbm_error *err)
{
  struct hash_workers *w = calloc (1, sizeof *w);
  size_t i;
  int e;

  if (w == NULL) {
    vbm_set_error (err, errno, "hashes: %s", strerror (errno));
    return NULL;
  }
  pthread_mutex_init (&w->lock, NULL);
  pthread_cond_init (&w->work, NULL);
  pthread_cond_init (&w->done, NULL);
  w->nslots = nslots;
  for (i = 0; i < NBATCH; ++i)
    if ((w->batches[i].buf = malloc (bufsize)) == NULL)
      goto nomem;
  w->cur = &w->batches[0];
  for (i = 0; i < VBM_NR_HASHES; ++i) {
    struct worker *k;

    if (!(algorithms & hash_algos[i].bit))
      continue;
    k = &w->workers[w->nworkers++];
    k->w = w;
    k->algo = i;
    k->ctx = calloc (nslots, sizeof *k->ctx);
    if (k->ctx == NULL)
      goto nomem;
  }
  for (i = 0; i < w->nworkers; ++i) {
    e = pthread_create (&w->workers[i].thread, NULL, worker_main,
                        &w->workers[i]);
    if (e != 0) {
      vbm_set_error (err, e, "hashes: cannot start a thread: %s",
                     strerror (e));
      stop_workers (w);
      free_workers (w);
      return NULL;
    }
    w->workers[i].started = true;
  }
  return w;

 nomem:
  vbm_set_error (err, ENOMEM, "hashes: %s", strerror (ENOMEM));
  free_workers (w);
  return NULL;
}

unsigned char *
hash_workers_buffer (struct hash_workers *w)
{
  return w->cur->buf;
}

void
hash_workers_submit (struct hash_workers *w)
{
  struct batch *b = w->cur, *next;

  if (b->cmds.len == 0)
    return;                     /* nothing refers to its buffer yet */
  pthread_mutex_lock (&w->lock);
  b->pending = w->nworkers;
  w->submitted++;
  pthread_cond_broadcast (&w->work);
  next = &w->batches[w->submitted % NBATCH];
  while (next->pending > 0)
    pthread_cond_wait (&w->done, &w->lock);
  pthread_mutex_unlock (&w->lock);
  next->cmds.len = 0;
  next->side.len = 0;
  w->cur = next;
}

/* A command lost would leave a digest wrong: out of memory fails the
 * whole stage, at hash_workers_finish.
 */
static void
add (struct hash_workers *w, struct cmd c)
{
  if (cmd_vector_append (&w->cur->cmds, c) == -1)
    w->nomem = true;
}

void
hash_workers_open (struct hash_workers *w, int32_t slot)
{
  add (w, (struct cmd) { .op = CMD_OPEN, .slot = slot });
}

void
hash_workers_data (struct hash_workers *w, int32_t slot,
                   const unsigned char *p, size_t len)
{
  add (w, (struct cmd) {
      .op = CMD_DATA, .slot = slot, .off = p - w->cur->buf, .len = len,
    });
}

void
hash_workers_copy (struct hash_workers *w, int32_t slot, const void *p,
                   size_t len)
{
  byte_vector *side = &w->cur->side;
  size_t off = side->len;

  if (byte_vector_reserve (side, len) == -1) {
    w->nomem = true;
    return;
  }
  memcpy (side->ptr + off, p, len);
  side->len += len;
  add (w, (struct cmd) {
      .op = CMD_SIDE, .slot = slot, .off = off, .len = len,
    });
}

void
hash_workers_zeroes (struct hash_workers *w, int32_t slot, uint64_t n)
{
  add (w, (struct cmd) { .op = CMD_ZEROES, .slot = slot, .len = n });
}

void
hash_workers_close (struct hash_workers *w, int32_t slot, unsigned char *out)
{
  add (w, (struct cmd) { .op = CMD_CLOSE, .slot = slot, .out = out });
}

int
hash_workers_finish (struct hash_workers *w, struct vbm_error *err)
{
  int r;

  hash_workers_submit (w);
  r = stop_workers (w);
  if (r == -1 || w->nomem) {
    vbm_set_error (err, ENOMEM, "hashes: %s", w->nomem
                   ? strerror (ENOMEM) : "a digest could not start");
    r = -1;
  }
  free_workers (w);
  return r;
}
