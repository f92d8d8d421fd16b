/* Decoding one xz block, from the place the index gives: its header,
 * then its data in pieces of any size.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "full-rw.h"
#include "internal.h"
#include "xz.h"

void
xz_block_from_iter (struct xz_block *b, const lzma_index_iter *iter)
{
  b->number = iter->block.number_in_file;
  b->file_offset = iter->block.compressed_file_offset;
  b->total_size = iter->block.total_size;
  b->unpadded_size = iter->block.unpadded_size;
  b->size = iter->block.uncompressed_size;
  b->check = iter->stream.flags->check;
}

const char *
xz_strerror (lzma_ret r)
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

/* n is what full_pread returned: -1 for an error, else a short read. */
static int
io_error (struct xz_reader *r, ssize_t n, struct vbm_error *err)
{
  int e = n == -1 ? errno : 0;

  vbm_set_error (err, e ? e : EIO, "%s: read of xz block %" PRIu64
                 ": %s", r->path, r->b.number,
                 e ? strerror (e) : "unexpected end of file");
  return -1;
}

static int
corrupt (struct xz_reader *r, struct vbm_error *err)
{
  vbm_set_error (err, EINVAL, "%s: corrupt xz block %" PRIu64
                 " at file offset %" PRIu64, r->path, r->b.number,
                 r->b.file_offset);
  return -1;
}

int
xz_reader_start (struct xz_reader *r, const char *path, int fd,
                 const struct xz_block *b, struct vbm_error *err)
{
  lzma_filter filters[LZMA_FILTERS_MAX + 1];
  lzma_block *block = &r->block;
  ssize_t n;
  lzma_ret ret;

  r->path = path;
  r->fd = fd;
  r->b = *b;
  r->in_pos = b->file_offset;
  r->in_end = b->file_offset + b->total_size;
  r->out_pos = 0;
  r->strm.next_in = r->in;
  r->strm.avail_in = 0;

  /* The block header: its first byte gives its size. */
  n = full_pread (fd, r->in, 1, r->in_pos);
  if (n != 1)
    return io_error (r, n, err);
  memset (block, 0, sizeof *block);
  block->version = 1;
  block->check = b->check;
  block->filters = filters;
  block->header_size = lzma_block_header_size_decode (r->in[0]);
  if (r->in[0] == 0 || block->header_size > b->total_size)
    return corrupt (r, err);
  n = full_pread (fd, r->in, block->header_size, r->in_pos);
  if (n != block->header_size)
    return io_error (r, n, err);
  if (lzma_block_header_decode (block, NULL, r->in) != LZMA_OK)
    return corrupt (r, err);
  if (lzma_block_compressed_size (block, b->unpadded_size) != LZMA_OK ||
      (block->uncompressed_size != LZMA_VLI_UNKNOWN &&
       block->uncompressed_size != b->size)) {
    lzma_filters_free (filters, NULL);
    return corrupt (r, err);
  }
  /* The decoder then refuses data that decodes to another size. */
  block->uncompressed_size = b->size;
  /* A hostile header could ask for a huge dictionary. */
  if (lzma_raw_decoder_memusage (filters) > XZ_DECODER_MEMLIMIT) {
    lzma_filters_free (filters, NULL);
    vbm_set_error (err, ENOMEM, "%s: xz block %" PRIu64 " needs more than "
                   "%d MiB of decoder memory", path, b->number,
                   XZ_DECODER_MEMLIMIT >> 20);
    return -1;
  }
  ret = lzma_block_decoder (&r->strm, block);
  lzma_filters_free (filters, NULL);
  block->filters = NULL;
  if (ret != LZMA_OK) {
    vbm_set_error (err, EINVAL, "%s: xz block %" PRIu64 ": %s",
                   path, b->number, xz_strerror (ret));
    return -1;
  }
  r->in_pos += block->header_size;
  return 0;
}

int
xz_reader_decode (struct xz_reader *r, uint8_t *out, size_t count,
                  struct vbm_error *err)
{
  /* The last piece also runs the decoder over the padding and check. */
  const bool last = count == r->b.size - r->out_pos;
  lzma_ret ret;

  if (count == 0)
    return 0;
  if (count > r->b.size - r->out_pos)
    return corrupt (r, err);
  r->strm.next_out = out;
  r->strm.avail_out = count;
  while (r->strm.avail_out > 0 || last) {
    lzma_action action = LZMA_RUN;

    if (r->strm.avail_in == 0) {
      uint64_t left = r->in_end - r->in_pos;
      size_t want = left < XZ_INBUF ? left : XZ_INBUF;
      ssize_t got = full_pread (r->fd, r->in, want, r->in_pos);

      if (got == -1)
        return io_error (r, got, err);
      r->in_pos += got;
      r->strm.next_in = r->in;
      r->strm.avail_in = got;
      if (got == 0)
        action = LZMA_FINISH;
    }
    ret = lzma_code (&r->strm, action);
    if (ret == LZMA_STREAM_END)
      break;
    if (ret != LZMA_OK) {
      vbm_set_error (err, EINVAL, "%s: xz block %" PRIu64 " at file offset %"
                     PRIu64 ": %s", r->path, r->b.number, r->b.file_offset,
                     xz_strerror (ret));
      return -1;
    }
    /* The block's data ended before its size. */
    if (action == LZMA_FINISH)
      return corrupt (r, err);
  }
  if (r->strm.avail_out != 0)
    return corrupt (r, err);
  r->out_pos += count;
  return 0;
}
