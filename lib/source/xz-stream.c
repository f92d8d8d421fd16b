/* Streaming a block too big to cache (plain single-block xz output):
 * one decoder moves forward through the block, and a ring buffer (the
 * window) keeps the last bytes it produced.
 *
 * The cost of a read depends on where it lands:
 *  - inside the window: a copy;
 *  - ahead of the decoder: decoding the gap up to it, then the read;
 *  - behind the window: decoding again from the start of the block
 *    up to the read, so up to the whole block per request.
 * Clients that read forward (nbdcopy, a sequential scan, a boot that
 * mostly reads ahead) pay for each byte once; a window as large as the
 * requests a client keeps in flight absorbs their reordering.  liblzma
 * cannot save a decoder's state, so there are no checkpoints to resume
 * from inside the block; only several decoders, each with its own
 * window and dictionary, could serve several forward readers at once.
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "xz.h"

/* Decoding goes into the window in pieces of at most this, each copied
 * out to the reader while it is still in the CPU cache.
 */
#define XZ_STREAM_PIECE (256 * 1024)

struct xz_stream {
  pthread_mutex_t lock;
  const char *path;
  int fd;
  struct xz_block b;
  struct xz_reader *r;
  bool positioned;              /* r is at r->out_pos, not failed */
  uint8_t *window;              /* byte p of the block is at [p % size] */
  size_t window_size;
  uint64_t filled;              /* bytes before r->out_pos in the window */
  uint64_t starts;              /* times decoding (re)started */
  uint64_t decoded;             /* bytes decoded */
};

struct xz_stream *
xz_stream_new (const char *path, int fd, const struct xz_block *b,
               size_t window_size, struct vbm_error *err)
{
  struct xz_stream *s = calloc (1, sizeof *s);
  const lzma_stream init = LZMA_STREAM_INIT;

  if (s == NULL || (s->r = malloc (sizeof *s->r)) == NULL ||
      (s->window = malloc (window_size ? window_size : 1)) == NULL) {
    vbm_set_error (err, errno, "malloc: %s", strerror (errno));
    if (s)
      free (s->r);
    free (s);
    return NULL;
  }
  s->r->strm = init;
  s->path = path;
  s->fd = fd;
  s->b = *b;
  s->window_size = window_size ? window_size : 1;
  pthread_mutex_init (&s->lock, NULL);
  return s;
}

void
xz_stream_free (struct xz_stream *s)
{
  if (s) {
    lzma_end (&s->r->strm);
    free (s->r);
    free (s->window);
    pthread_mutex_destroy (&s->lock);
    free (s);
  }
}

/* Called with the lock held. */
static int
restart (struct xz_stream *s, struct vbm_error *err)
{
  s->positioned = false;
  s->filled = 0;
  s->starts++;
  if (xz_reader_start (s->r, s->path, s->fd, &s->b, err) == -1)
    return -1;
  s->positioned = true;
  return 0;
}

/* Called with the lock held: decodes the next piece into the window. */
static int
decode_piece (struct xz_stream *s, struct vbm_error *err)
{
  uint64_t pos = s->r->out_pos;
  size_t at = pos % s->window_size;
  uint64_t n = s->window_size - at;

  if (n > s->b.size - pos)
    n = s->b.size - pos;
  if (n > XZ_STREAM_PIECE)
    n = XZ_STREAM_PIECE;
  if (xz_reader_decode (s->r, s->window + at, n, err) == -1) {
    s->positioned = false;
    return -1;
  }
  s->decoded += n;
  s->filled = s->filled + n < s->window_size ? s->filled + n : s->window_size;
  return 0;
}

int
xz_stream_read (struct xz_stream *s, void *buf, size_t count,
                uint64_t offset, struct vbm_error *err)
{
  uint8_t *p = buf;
  int r = 0;

  pthread_mutex_lock (&s->lock);
  if (!s->positioned || offset < s->r->out_pos - s->filled)
    r = restart (s, err);
  /* Invariant: offset is not behind the window.  Each piece decoded
   * is at most the window's size, so it cannot push offset out.
   */
  while (r == 0 && count > 0) {
    uint64_t pos = s->r->out_pos;

    if (offset < pos) {
      size_t at = offset % s->window_size;
      uint64_t n = pos - offset;

      if (n > count)
        n = count;
      if (n > s->window_size - at)
        n = s->window_size - at;
      memcpy (p, s->window + at, n);
      p += n;
      count -= n;
      offset += n;
    }
    else
      /* Callers stay inside the block, so pos < the block's size. */
      r = decode_piece (s, err);
  }
  pthread_mutex_unlock (&s->lock);
  return r;
}

void
xz_stream_stats (struct xz_stream *s, struct vbm_source_stats *stats)
{
  pthread_mutex_lock (&s->lock);
  stats->blocks_decoded += s->starts;
  stats->bytes_decoded += s->decoded;
  stats->restarts += s->starts > 0 ? s->starts - 1 : 0;
  pthread_mutex_unlock (&s->lock);
}
