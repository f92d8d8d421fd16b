/* xz images with random access: the stream index says where each
 * block lies; a read decodes only the blocks holding the bytes it
 * wants, and keeps decoded blocks in a bounded LRU cache.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lzma.h>

#include "blockcache.h"
#include "cleanup.h"
#include "internal.h"
#include "source.h"

/* Input buffer for the index and the block decoder. */
#define XZ_INBUF (64 * 1024)
/* The index of a huge image with small blocks stays far below this. */
#define XZ_INDEX_MEMLIMIT (256 * 1024 * 1024)
/* Decoder memory (mostly the dictionary) allowed on top of the cache
 * cap: xz -9 needs 65 MiB.
 */
#define XZ_DECODER_MEMLIMIT (256 * 1024 * 1024)
#define XZ_MAX_CACHED_BLOCKS 1024
/* Idle decoders kept for reuse: a fresh one allocates its dictionary
 * again, which costs more than decoding a small block.
 */
#define XZ_DECODER_POOL 8

static const uint8_t xz_magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };

struct xz {
  int fd;
  uint64_t file_size;
  lzma_index *idx;              /* read-only after open: threads share it */
  struct blockcache cache;
  pthread_mutex_t pool_lock;
  lzma_stream pool[XZ_DECODER_POOL];
  size_t npool;
};

static void
get_decoder (struct xz *xz, lzma_stream *strm)
{
  const lzma_stream init = LZMA_STREAM_INIT;

  *strm = init;
  pthread_mutex_lock (&xz->pool_lock);
  if (xz->npool > 0)
    *strm = xz->pool[--xz->npool];
  pthread_mutex_unlock (&xz->pool_lock);
}

/* Keeps a decoder that finished cleanly; frees the others. */
static void
put_decoder (struct xz *xz, lzma_stream *strm, bool ok)
{
  pthread_mutex_lock (&xz->pool_lock);
  if (ok && xz->npool < XZ_DECODER_POOL) {
    xz->pool[xz->npool++] = *strm;
    ok = false;
  }
  else
    ok = true;
  pthread_mutex_unlock (&xz->pool_lock);
  if (ok)
    lzma_end (strm);
}

int
vbm_source_is_xz (const void *buf, size_t len)
{
  return len >= sizeof xz_magic && memcmp (buf, xz_magic, sizeof xz_magic) == 0;
}

static const char *
lzma_strerror (lzma_ret r)
{
  switch (r) {
  case LZMA_MEM_ERROR: return "out of memory";
  case LZMA_MEMLIMIT_ERROR: return "memory limit reached";
  case LZMA_FORMAT_ERROR: return "not an xz file";
  case LZMA_OPTIONS_ERROR: return "unsupported xz options";
  case LZMA_DATA_ERROR: return "corrupt xz data";
  case LZMA_BUF_ERROR: return "truncated xz data";
  default: return "liblzma error";
  }
}

static int
read_full (int fd, void *buf, size_t count, uint64_t offset, size_t *got)
{
  char *p = buf;

  /* A short read leaves errno 0, so callers can tell it from an error. */
  errno = 0;
  *got = 0;
  while (count > 0) {
    ssize_t r = pread (fd, p, count, offset);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (r == 0)
      break;
    p += r;
    count -= r;
    offset += r;
    *got += r;
  }
  return 0;
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
                   path, lzma_strerror (r));
    return NULL;
  }
  for (;;) {
    lzma_action action = LZMA_RUN;

    if (strm.avail_in == 0) {
      size_t got;

      if (read_full (fd, buf, XZ_INBUF, pos, &got) == -1) {
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
      else if (r == LZMA_BUF_ERROR || action == LZMA_FINISH)
        vbm_set_error (err, EINVAL,
                       "%s: truncated xz file (no valid stream footer "
                       "and index at its end)", path);
      else if (r == LZMA_DATA_ERROR)
        vbm_set_error (err, EINVAL, "%s: corrupt xz file: the stream "
                       "header, footer or index is damaged", path);
      else
        vbm_set_error (err, EINVAL, "%s: reading the xz index: %s",
                       path, lzma_strerror (r));
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

/* Every block must fit in the cache, or reads would decode it again
 * and again.
 */
static int
check_blocks (const char *path, lzma_index *idx, uint64_t file_size,
              size_t cache_max, struct vbm_error *err)
{
  lzma_index_iter iter;

  lzma_index_iter_init (&iter, idx);
  while (!lzma_index_iter_next (&iter, LZMA_INDEX_ITER_NONEMPTY_BLOCK)) {
    if (iter.block.uncompressed_size > cache_max) {
      if (lzma_index_block_count (idx) == 1)
        vbm_set_error (err, ENOTSUP,
                       "%s: this xz file is a single block of %" PRIu64
                       " bytes (plain 'xz' output), which cannot be read at "
                       "random without decompressing all of it; recompress "
                       "it in blocks with: xz -dc '%s' | xz --block-size=16MiB"
                       " > NEW.xz",
                       path, (uint64_t) iter.block.uncompressed_size, path);
      else
        vbm_set_error (err, ENOTSUP,
                       "%s: xz block %" PRIu64 " holds %" PRIu64 " bytes, "
                       "more than the block cache (%zu bytes); recompress "
                       "with smaller blocks (xz --block-size=16MiB) or "
                       "raise VIRT_BMAP_XZ_CACHE",
                       path, (uint64_t) iter.block.number_in_file,
                       (uint64_t) iter.block.uncompressed_size, cache_max);
      return -1;
    }
    if (iter.block.compressed_file_offset > file_size ||
        iter.block.total_size > file_size - iter.block.compressed_file_offset) {
      vbm_set_error (err, EINVAL, "%s: corrupt xz index: block %" PRIu64
                     " lies beyond the end of the file", path,
                     (uint64_t) iter.block.number_in_file);
      return -1;
    }
  }
  return 0;
}

/* Decodes the block iter points to into a new buffer. */
static uint8_t *
decode_block (struct vbm_source *src, const lzma_index_iter *iter,
              struct vbm_error *err)
{
  struct xz *xz = src->priv;
  lzma_filter filters[LZMA_FILTERS_MAX + 1];
  lzma_block block = { 0 };
  lzma_stream strm;
  CLEANUP_FREE uint8_t *in = malloc (XZ_INBUF);
  uint8_t *out = NULL;
  uint64_t pos = iter->block.compressed_file_offset;
  uint64_t end = pos + iter->block.total_size;
  size_t out_size = iter->block.uncompressed_size, got;
  uint64_t bn = iter->block.number_in_file;
  lzma_ret r;

  get_decoder (xz, &strm);
  if (in == NULL || (out = malloc (out_size ? out_size : 1)) == NULL) {
    vbm_set_error (err, errno, "malloc: %s", strerror (errno));
    goto fail;
  }

  /* The block header: its first byte gives its size. */
  if (read_full (xz->fd, in, 1, pos, &got) == -1 || got != 1)
    goto io_error;
  block.version = 1;
  block.check = iter->stream.flags->check;
  block.filters = filters;
  block.header_size = lzma_block_header_size_decode (in[0]);
  if (in[0] == 0 || block.header_size > iter->block.total_size)
    goto corrupt;
  if (read_full (xz->fd, in, block.header_size, pos, &got) == -1 ||
      got != block.header_size)
    goto io_error;
  if (lzma_block_header_decode (&block, NULL, in) != LZMA_OK)
    goto corrupt;
  if (lzma_block_compressed_size (&block, iter->block.unpadded_size)
      != LZMA_OK ||
      (block.uncompressed_size != LZMA_VLI_UNKNOWN &&
       block.uncompressed_size != iter->block.uncompressed_size)) {
    lzma_filters_free (filters, NULL);
    goto corrupt;
  }
  block.uncompressed_size = iter->block.uncompressed_size;
  /* A hostile header could ask for a huge dictionary. */
  if (lzma_raw_decoder_memusage (filters) > XZ_DECODER_MEMLIMIT) {
    lzma_filters_free (filters, NULL);
    vbm_set_error (err, ENOMEM, "%s: xz block %" PRIu64 " needs more than "
                   "%d MiB of decoder memory", src->path, bn,
                   XZ_DECODER_MEMLIMIT >> 20);
    goto fail;
  }
  r = lzma_block_decoder (&strm, &block);
  lzma_filters_free (filters, NULL);
  if (r != LZMA_OK) {
    vbm_set_error (err, EINVAL, "%s: xz block %" PRIu64 ": %s",
                   src->path, bn, lzma_strerror (r));
    goto fail;
  }

  pos += block.header_size;
  strm.next_out = out;
  strm.avail_out = out_size;
  for (;;) {
    lzma_action action = LZMA_RUN;

    if (strm.avail_in == 0) {
      size_t want = end - pos < XZ_INBUF ? end - pos : XZ_INBUF;

      if (read_full (xz->fd, in, want, pos, &got) == -1)
        goto io_error;
      pos += got;
      strm.next_in = in;
      strm.avail_in = got;
      if (got == 0)
        action = LZMA_FINISH;
    }
    r = lzma_code (&strm, action);
    if (r == LZMA_STREAM_END)
      break;
    if (r != LZMA_OK) {
      vbm_set_error (err, EINVAL, "%s: xz block %" PRIu64 " at file offset %"
                     PRIu64 ": %s", src->path, bn,
                     (uint64_t) iter->block.compressed_file_offset,
                     lzma_strerror (r));
      goto fail;
    }
    if (action == LZMA_FINISH)
      goto corrupt;
  }
  if (strm.avail_out != 0)
    goto corrupt;
  put_decoder (xz, &strm, true);
  return out;

 io_error:
  vbm_set_error (err, errno ? errno : EIO, "%s: read of xz block %" PRIu64
                 ": %s", src->path, bn,
                 errno ? strerror (errno) : "unexpected end of file");
  goto fail;
 corrupt:
  vbm_set_error (err, EINVAL, "%s: corrupt xz block %" PRIu64
                 " at file offset %" PRIu64, src->path, bn,
                 (uint64_t) iter->block.compressed_file_offset);
 fail:
  put_decoder (xz, &strm, false);
  free (out);
  return NULL;
}

static int
xz_pread (struct vbm_source *src, void *buf, size_t count, uint64_t offset,
          struct vbm_error *err)
{
  struct xz *xz = src->priv;
  char *p = buf;

  while (count > 0) {
    lzma_index_iter iter;
    uint64_t start, bsize;
    size_t in_block, n;
    uint8_t *data;

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

    if (!blockcache_read (&xz->cache, iter.block.number_in_file,
                          p, n, in_block)) {
      /* Decoded without the lock: other threads keep reading. */
      data = decode_block (src, &iter, err);
      if (data == NULL) {
        blockcache_abandon (&xz->cache, iter.block.number_in_file);
        return -1;
      }
      memcpy (p, data + in_block, n);
      blockcache_insert (&xz->cache, iter.block.number_in_file, data, bsize);
    }
    p += n;
    count -= n;
    offset += n;
  }
  return 0;
}

static void
xz_close (struct vbm_source *src)
{
  struct xz *xz = src->priv;

  if (xz) {
    while (xz->npool > 0)
      lzma_end (&xz->pool[--xz->npool]);
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
};

struct vbm_source *
vbm_source_open_xz (const char *path, size_t cache_max, struct vbm_error *err)
{
  struct vbm_source *src;
  struct xz *xz;
  struct stat st;
  uint8_t magic[sizeof xz_magic];
  size_t got;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    vbm_set_error (err, errno, "%s: %s", path, strerror (errno));
    return NULL;
  }
  if (fstat (fd, &st) == -1) {
    vbm_set_error (err, errno, "%s: stat: %s", path, strerror (errno));
    close (fd);
    return NULL;
  }
  if (!S_ISREG (st.st_mode)) {
    vbm_set_error (err, EINVAL, "%s: an xz image must be a regular file", path);
    close (fd);
    return NULL;
  }
  if (read_full (fd, magic, sizeof magic, 0, &got) == -1 ||
      !vbm_source_is_xz (magic, got)) {
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
  src->format = "xz";
  src->mtime = st.st_mtime;
  if (blockcache_init (&xz->cache, cache_max, XZ_MAX_CACHED_BLOCKS) == -1) {
    vbm_set_error (err, errno, "blockcache_init: %s", strerror (errno));
    xz->cache.entries = NULL;
    vbm_source_close (src);
    return NULL;
  }
  xz->idx = read_index (path, fd, xz->file_size, err);
  if (xz->idx == NULL ||
      check_blocks (path, xz->idx, xz->file_size, cache_max, err) == -1) {
    vbm_source_close (src);
    return NULL;
  }
  src->size = lzma_index_uncompressed_size (xz->idx);
  return src;
}
