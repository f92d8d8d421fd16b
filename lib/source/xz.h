/* The parts of the xz source (source-xz*.c): decoding one block, and
 * streaming a block too big to cache.
 */
#ifndef VBM_SOURCE_XZ_H
#define VBM_SOURCE_XZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lzma.h>

#include "virtbmap.h"

/* Input buffer of a block reader. */
#define XZ_INBUF (64 * 1024)
/* Decoder memory (mostly the dictionary) allowed on top of the cache
 * cap: xz -9 needs 65 MiB.
 */
#define XZ_DECODER_MEMLIMIT (256 * 1024 * 1024)

/* Where a block lies, copied from the index. */
struct xz_block {
  uint64_t number;              /* in the file, from 1 */
  uint64_t file_offset;         /* of the block header */
  uint64_t total_size;          /* header, data, padding and check */
  uint64_t unpadded_size;
  uint64_t size;                /* uncompressed */
  lzma_check check;
};

extern void xz_block_from_iter (struct xz_block *b,
                                const lzma_index_iter *iter);

/* A decoder positioned inside one block. */
struct xz_reader {
  const char *path;             /* for messages */
  int fd;
  struct xz_block b;
  lzma_stream strm;
  lzma_block block;             /* the decoder reads it until the end */
  uint8_t in[XZ_INBUF];
  uint64_t in_pos;              /* next compressed byte to read */
  uint64_t in_end;              /* end of the block in the file */
  uint64_t out_pos;             /* uncompressed bytes produced */
};

/* Sets r up (r->strm may hold a decoder to reuse, or
 * LZMA_STREAM_INIT) to decode block b from its first byte: reads and
 * checks the block header.  On error r->strm must still be ended.
 */
extern int xz_reader_start (struct xz_reader *r, const char *path, int fd,
                            const struct xz_block *b, struct vbm_error *err);
/* Decodes the next count bytes of the block into out; at the end of
 * the block, also checks its padding and check field.
 */
extern int xz_reader_decode (struct xz_reader *r, uint8_t *out, size_t count,
                             struct vbm_error *err);

extern const char *xz_strerror (lzma_ret r);

/* A block too big for the cache, read forward by one decoder with a
 * window of the last window_size bytes decoded (source-xz-stream.c).
 * Safe to use from many threads.
 */
struct xz_stream;

extern struct xz_stream *xz_stream_new (const char *path, int fd,
                                        const struct xz_block *b,
                                        size_t window_size,
                                        struct vbm_error *err);
extern void xz_stream_free (struct xz_stream *s);
/* Reads count bytes at offset inside the block: from the window, by
 * decoding forward, or (behind the window) by decoding again from the
 * start of the block.
 */
extern int xz_stream_read (struct xz_stream *s, void *buf, size_t count,
                           uint64_t offset, struct vbm_error *err);
extern void xz_stream_stats (struct xz_stream *s,
                             struct vbm_source_stats *stats);

#endif /* VBM_SOURCE_XZ_H */
