/* xz images with random access: the stream index says where each
 * block lies; a read decodes only the blocks holding the bytes it
 * wants, and keeps decoded blocks in a bounded LRU cache.  A file that
 * is one block too big for the cache (plain xz output) is streamed
 * instead (source-xz-stream.c).
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lzma.h>

#include "blockcache.h"
#include "cleanup.h"
#include "full-rw.h"
#include "internal.h"
#include "source.h"
#include "xz.h"

/* The index of a huge image with small blocks stays far below this. */
#define XZ_INDEX_MEMLIMIT (256 * 1024 * 1024)
#define XZ_MAX_CACHED_BLOCKS 1024
/* Decoders at work at once, at most: one per CPU, since decoding is
 * all CPU, and each holds a dictionary (8 MiB for xz -6).  Idle ones
 * are kept for reuse: a fresh one allocates its dictionary again.
 */
#define XZ_MAX_DECODERS 4

static const uint8_t xz_magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };

struct xz {
  int fd;
  uint64_t file_size;
  lzma_index *idx;              /* read-only after open: threads share it */
  struct blockcache cache;
  pthread_mutex_t pool_lock;
  pthread_cond_t pool_free;     /* a decoder went back to the pool */
  lzma_stream pool[XZ_MAX_DECODERS];
  size_t npool;                 /* idle decoders */
  unsigned busy, max_busy;      /* decoders at work */
  struct xz_stream *stream;     /* a single block, streamed; or NULL */
  uint64_t blocks_decoded;      /* atomic */
  uint64_t bytes_decoded;       /* atomic */
};

/* Waits for a decoder slot and gives an idle decoder or a new one. */
static void
get_decoder (struct xz *xz, lzma_stream *strm)
{
  const lzma_stream init = LZMA_STREAM_INIT;

  *strm = init;
  pthread_mutex_lock (&xz->pool_lock);
  while (xz->busy >= xz->max_busy)
    pthread_cond_wait (&xz->pool_free, &xz->pool_lock);
  xz->busy++;
  if (xz->npool > 0)
    *strm = xz->pool[--xz->npool];
  pthread_mutex_unlock (&xz->pool_lock);
}

/* Keeps a decoder that finished cleanly; frees the others. */
static void
put_decoder (struct xz *xz, lzma_stream *strm, bool ok)
{
  pthread_mutex_lock (&xz->pool_lock);
  xz->busy--;
  if (ok && xz->npool < XZ_MAX_DECODERS) {
    xz->pool[xz->npool++] = *strm;
    ok = false;
  }
  else
    ok = true;
  pthread_cond_signal (&xz->pool_free);
  pthread_mutex_unlock (&xz->pool_lock);
  if (ok)
    lzma_end (strm);
}

int
vbm_source_is_xz (const void *buf, size_t len)
{
  return len >= sizeof xz_magic && memcmp (buf, xz_magic, sizeof xz_magic) == 0;
}

/* liblzma reports a cut file as damaged: an xz file ends with the
 * footer magic "YZ", then maybe stream padding (null bytes, by 4), a
 * cut one almost never does.  Looks at the last XZ_INBUF bytes only:
 * this only chooses an error message.
 */
static bool
ends_with_footer (int fd, uint64_t file_size)
{
  CLEANUP_FREE uint8_t *buf = malloc (XZ_INBUF);
  size_t n = file_size < XZ_INBUF ? file_size : XZ_INBUF;

  if (buf == NULL || full_pread (fd, buf, n, file_size - n) != (ssize_t) n)
    return true;
  while (n >= 4 && memcmp (buf + n - 4, "\0\0\0\0", 4) == 0)
    n -= 4;
  return n >= 2 && buf[n - 2] == 'Y' && buf[n - 1] == 'Z';
}

/* Reads the index of every stream (lzma_file_info_decoder seeks to the
 * footers and indexes itself; we only feed it what it asks for).
 */
static lzma_index *
read_index (const char *path, int fd, uint64_t file_size,
            struct vbm_error *err)
{
  lzma_stream strm = LZMA_STREAM_INIT;
  lzma_index *idx = NULL;
  CLEANUP_FREE uint8_t *buf = malloc (XZ_INBUF);
  uint64_t pos = 0;
  lzma_ret r;

  if (buf == NULL) {
    vbm_set_error (err, errno, "malloc: %s", strerror (errno));
    return NULL;
  }
  r = lzma_file_info_decoder (&strm, &idx, XZ_INDEX_MEMLIMIT, file_size);
  if (r != LZMA_OK) {
    vbm_set_error (err, ENOMEM, "%s: lzma_file_info_decoder: %s",
                   path, xz_strerror (r));
    return NULL;
  }
  for (;;) {
    lzma_action action = LZMA_RUN;

    if (strm.avail_in == 0) {
      ssize_t got = full_pread (fd, buf, XZ_INBUF, pos);

      if (got == -1) {
        vbm_set_error (err, errno, "%s: read: %s", path, strerror (errno));
        goto fail;
      }
      strm.next_in = buf;
      strm.avail_in = got;
      pos += got;
      if (got == 0)
        action = LZMA_FINISH;
    }
    r = lzma_code (&strm, action);
    if (r == LZMA_STREAM_END)
      break;
    if (r == LZMA_SEEK_NEEDED) {
      if (strm.seek_pos > file_size) {
        vbm_set_error (err, EINVAL, "%s: corrupt xz index", path);
        goto fail;
      }
      pos = strm.seek_pos;
      strm.avail_in = 0;
      continue;
    }
    if (r != LZMA_OK) {
      if (r == LZMA_FORMAT_ERROR)
        vbm_set_error (err, EINVAL, "%s: not an xz file", path);
      else if (r == LZMA_BUF_ERROR || action == LZMA_FINISH ||
               !ends_with_footer (fd, file_size))
        vbm_set_error (err, EINVAL,
                       "%s: truncated xz file (it does not end with an xz "
                       "stream footer)", path);
      else if (r == LZMA_DATA_ERROR)
        vbm_set_error (err, EINVAL, "%s: corrupt xz file: the stream "
                       "header, footer or index is damaged", path);
      else
        vbm_set_error (err, EINVAL, "%s: reading the xz index: %s",
                       path, xz_strerror (r));
      goto fail;
    }
  }
  lzma_end (&strm);
  return idx;

 fail:
  lzma_end (&strm);
  if (idx)
    lzma_index_end (idx, NULL);
  return NULL;
}

/* The default cache cap for idx (see VBM_XZ_CACHE_DEFAULT). */
static size_t
default_cache_max (lzma_index *idx)
{
  lzma_index_iter iter;
  uint64_t largest = 0;

  if (lzma_index_block_count (idx) <= 1)
    return VBM_XZ_CACHE_DEFAULT;
  lzma_index_iter_init (&iter, idx);
  while (!lzma_index_iter_next (&iter, LZMA_INDEX_ITER_NONEMPTY_BLOCK))
    if (iter.block.uncompressed_size > largest)
      largest = iter.block.uncompressed_size;
  if (largest > VBM_XZ_CACHE_AUTO_MAX / VBM_XZ_CACHE_BLOCKS)
    return VBM_XZ_CACHE_AUTO_MAX;
  if (largest * VBM_XZ_CACHE_BLOCKS < VBM_XZ_CACHE_DEFAULT)
    return VBM_XZ_CACHE_DEFAULT;
  return largest * VBM_XZ_CACHE_BLOCKS;
}

/* Every block must lie inside the file and fit in the cache, or reads
 * would decode it again and again; a file of one block too big for the
 * cache is streamed (*stream set).
 */
static int
check_blocks (const char *path, lzma_index *idx, uint64_t file_size,
              size_t cache_max, bool *stream, struct xz_block *first,
              struct vbm_error *err)
{
  lzma_index_iter iter;
  bool too_big = false;

  *stream = false;
  lzma_index_iter_init (&iter, idx);
  while (!lzma_index_iter_next (&iter, LZMA_INDEX_ITER_NONEMPTY_BLOCK)) {
    if (iter.block.compressed_file_offset > file_size ||
        iter.block.total_size > file_size - iter.block.compressed_file_offset) {
      vbm_set_error (err, EINVAL, "%s: corrupt xz index: block %" PRIu64
                     " lies beyond the end of the file", path,
                     (uint64_t) iter.block.number_in_file);
      return -1;
    }
    if (iter.block.uncompressed_size > cache_max && !too_big) {
      too_big = true;
      xz_block_from_iter (first, &iter);
    }
  }
  if (!too_big)
    return 0;
  if (lzma_index_block_count (idx) == 1) {
    *stream = true;
    return 0;
  }
  vbm_set_error (err, ENOTSUP,
                 "%s: xz block %" PRIu64 " holds %" PRIu64 " bytes, "
                 "more than the block cache (%zu bytes); recompress "
                 "with smaller blocks (xz --block-size=16MiB) or "
                 "raise VIRT_BMAP_XZ_CACHE",
                 path, first->number, first->size, cache_max);
  return -1;
}

/* Decodes block b into the cache (it was found missing), and copies
 * count bytes at offset inside it to buf.
 */
static int
decode_block (struct vbm_source *src, const struct xz_block *b,
              void *buf, size_t count, size_t offset, struct vbm_error *err)
{
  struct xz *xz = src->priv;
  struct xz_reader *r = malloc (sizeof *r);
  uint8_t *data = NULL;
  bool ok = false;

  if (r == NULL) {
    vbm_set_error (err, errno, "malloc: %s", strerror (errno));
    blockcache_abandon (&xz->cache, b->number, NULL, 0);
    return -1;
  }
  /* A decoder first, then room in the cache: whoever holds room is
   * decoding, so waiting for room always ends.
   */
  get_decoder (xz, &r->strm);
  data = blockcache_reserve (&xz->cache, b->size);
  if (data == NULL)
    vbm_set_error (err, errno, "xz block %" PRIu64 ": %s",
                   b->number, strerror (errno));
  else if (xz_reader_start (r, src->path, xz->fd, b, err) == 0 &&
           xz_reader_decode (r, data, b->size, err) == 0)
    ok = true;
  put_decoder (xz, &r->strm, ok);
  free (r);
  if (!ok) {
    blockcache_abandon (&xz->cache, b->number, data, data ? b->size : 0);
    return -1;
  }
  /* Before the insert: from then on the block may be evicted. */
  if (count > 0)
    memcpy (buf, data + offset, count);
  blockcache_insert (&xz->cache, b->number, data, b->size, count, offset);
  __atomic_add_fetch (&xz->blocks_decoded, 1, __ATOMIC_RELAXED);
  __atomic_add_fetch (&xz->bytes_decoded, b->size, __ATOMIC_RELAXED);
  return 0;
}

/* Block iter is being decoded by another thread for a reader like
 * this one: if the block before was the last read (a reader going
 * forward) and a decoder is idle, decode the next block meanwhile, so
 * that a single sequential client keeps two decoders busy.
 */
static void
read_ahead (struct vbm_source *src, const lzma_index_iter *iter)
{
  struct xz *xz = src->priv;
  uint64_t next = iter->block.uncompressed_file_offset +
    iter->block.uncompressed_size;
  lzma_index_iter it;
  struct xz_block b;
  struct vbm_error ignored;

  bool idle;

  if (iter->block.number_in_file <= 1 || next >= src->size)
    return;
  /* Only with a decoder to spare: never at the cost of another
   * reader's block.
   */
  pthread_mutex_lock (&xz->pool_lock);
  idle = xz->busy < xz->max_busy;
  pthread_mutex_unlock (&xz->pool_lock);
  if (!idle)
    return;
  lzma_index_iter_init (&it, xz->idx);
  if (lzma_index_iter_locate (&it, next) ||
      !blockcache_claim_next (&xz->cache, it.block.number_in_file,
                              iter->block.number_in_file - 1,
                              it.block.uncompressed_size))
    return;
  xz_block_from_iter (&b, &it);
  /* A failure is reported to the reader that wants the block. */
  decode_block (src, &b, NULL, 0, 0, &ignored);
}

static int
xz_pread (struct vbm_source *src, void *buf, size_t count, uint64_t offset,
          struct vbm_error *err)
{
  struct xz *xz = src->priv;
  char *p = buf;

  /* The only block starts at offset 0. */
  if (xz->stream)
    return xz_stream_read (xz->stream, buf, count, offset, err);

  while (count > 0) {
    lzma_index_iter iter;
    struct xz_block b;
    uint64_t start, bsize;
    size_t in_block, n;
    int r;

    lzma_index_iter_init (&iter, xz->idx);
    if (lzma_index_iter_locate (&iter, offset)) {
      vbm_set_error (err, EIO, "%s: offset %" PRIu64 " is past the end of "
                     "the xz data", src->path, offset);
      return -1;
    }
    start = iter.block.uncompressed_file_offset;
    bsize = iter.block.uncompressed_size;
    in_block = offset - start;
    n = bsize - in_block < count ? bsize - in_block : count;

    r = blockcache_read (&xz->cache, iter.block.number_in_file,
                         p, n, in_block, 1);
    if (r == -1) {
      read_ahead (src, &iter);
      r = blockcache_read (&xz->cache, iter.block.number_in_file,
                           p, n, in_block, 0);
    }
    if (r == 0) {
      /* Decoded without the lock: other threads keep reading. */
      xz_block_from_iter (&b, &iter);
      if (decode_block (src, &b, p, n, in_block, err) == -1)
        return -1;
    }
    p += n;
    count -= n;
    offset += n;
  }
  return 0;
}

static void
xz_stats (struct vbm_source *src, struct vbm_source_stats *stats)
{
  struct xz *xz = src->priv;

  stats->blocks_decoded += __atomic_load_n (&xz->blocks_decoded,
                                            __ATOMIC_RELAXED);
  stats->bytes_decoded += __atomic_load_n (&xz->bytes_decoded,
                                           __ATOMIC_RELAXED);
  if (xz->stream) {
    stats->streamed = 1;
    xz_stream_stats (xz->stream, stats);
  }
}

static void
xz_close (struct vbm_source *src)
{
  struct xz *xz = src->priv;

  if (xz) {
    xz_stream_free (xz->stream);
    while (xz->npool > 0)
      lzma_end (&xz->pool[--xz->npool]);
    pthread_cond_destroy (&xz->pool_free);
    pthread_mutex_destroy (&xz->pool_lock);
    blockcache_free (&xz->cache);
    if (xz->idx)
      lzma_index_end (xz->idx, NULL);
    close (xz->fd);
    free (xz);
  }
}

static const struct vbm_source_ops xz_ops = {
  .name = "xz",
  .pread = xz_pread,
  .close = xz_close,
  .stats = xz_stats,
};

struct vbm_source *
vbm_source_open_xz (const char *path, size_t cache_max,
                    vbm_warning_fn warning, void *opaque,
                    struct vbm_error *err)
{
  struct vbm_source *src;
  struct xz *xz;
  struct xz_block big;
  bool stream;
  long ncpus;
  struct stat st;
  uint8_t magic[sizeof xz_magic];
  ssize_t got;
  int fd;

  fd = vbm_source_open_file (path, &st, err);
  if (fd == -1)
    return NULL;
  if (!S_ISREG (st.st_mode)) {
    vbm_set_error (err, EINVAL, "%s: an xz image must be a regular file", path);
    close (fd);
    return NULL;
  }
  got = full_pread (fd, magic, sizeof magic, 0);
  if (got == -1 || !vbm_source_is_xz (magic, got)) {
    vbm_set_error (err, EINVAL, "%s: not an xz file (no xz magic)", path);
    close (fd);
    return NULL;
  }

  src = vbm_source_new (path, &xz_ops, sizeof *xz, err);
  if (src == NULL) {
    close (fd);
    return NULL;
  }
  xz = src->priv;
  xz->fd = fd;
  xz->file_size = st.st_size;
  pthread_mutex_init (&xz->pool_lock, NULL);
  pthread_cond_init (&xz->pool_free, NULL);
  ncpus = sysconf (_SC_NPROCESSORS_ONLN);
  xz->max_busy = ncpus < 1 ? 1 : ncpus > XZ_MAX_DECODERS ? XZ_MAX_DECODERS
    : (unsigned) ncpus;
  src->format = "xz";
  src->mtime = st.st_mtime;
  xz->idx = read_index (path, fd, xz->file_size, err);
  if (xz->idx == NULL) {
    vbm_source_close (src);
    return NULL;
  }
  if (cache_max == 0)
    cache_max = default_cache_max (xz->idx);
  if (check_blocks (path, xz->idx, xz->file_size, cache_max, &stream, &big,
                    err) == -1) {
    vbm_source_close (src);
    return NULL;
  }
  if (blockcache_init (&xz->cache, cache_max, XZ_MAX_CACHED_BLOCKS) == -1) {
    vbm_set_error (err, errno, "blockcache_init: %s", strerror (errno));
    vbm_source_close (src);
    return NULL;
  }
  src->size = lzma_index_uncompressed_size (xz->idx);
  if (stream) {
    /* The window takes the cache's share of memory. */
    xz->stream = xz_stream_new (src->path, fd, &big, cache_max, err);
    if (xz->stream == NULL) {
      vbm_source_close (src);
      return NULL;
    }
    if (warning) {
      char msg[1024];

      snprintf (msg, sizeof msg,
                "%s is a single xz block of %" PRIu64 " bytes (plain 'xz' "
                "output), more than the %zu-byte cache: it is streamed, so "
                "reads are fast going forward but every read behind the last "
                "%zu bytes decompresses it again from the start.  For random "
                "access recompress it in blocks: xz -dc '%s' | "
                "xz --block-size=16MiB > NEW.xz",
                path, big.size, cache_max, cache_max, path);
      warning (opaque, msg);
    }
  }
  return src;
}
