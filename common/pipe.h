/* A bounded byte pipe to one consumer thread (pipe.c).
 *
 * The producer reserves space, writes a record and commits it; full
 * chunks go to a thread that hands each to the consumer function.
 * Memory is bounded: the producer waits while VBM_PIPE_CHUNKS chunks are
 * queued.  Errors are errno values, so it serves any caller.
 */
#ifndef VBM_PIPE_H
#define VBM_PIPE_H

#include <stddef.h>

/* Chunks of VBM_PIPE_CHUNK bytes; the producer waits while
 * VBM_PIPE_CHUNKS are queued (2 MiB).
 */
#define VBM_PIPE_CHUNK (256 * 1024)
#define VBM_PIPE_CHUNKS 8

struct vbm_pipe;

/* Called in the consumer thread with whole records.  Returns -1 (with
 * its own error recorded by the caller's opaque) to stop the pipe.
 */
typedef int (*vbm_pipe_consumer) (void *opaque, const char *buf, size_t len);

/* Returns NULL with errno set. */
extern struct vbm_pipe *vbm_pipe_start (vbm_pipe_consumer fn, void *opaque);
/* Room for a record of LEN bytes, or NULL with errno set: EPIPE if the
 * consumer failed, ENOMEM if memory ran out.
 */
extern char *vbm_pipe_reserve (struct vbm_pipe *p, size_t len);
extern void vbm_pipe_commit (struct vbm_pipe *p, size_t len);
/* Flushes, waits for the consumer and frees the pipe.  Returns -1 if
 * the consumer failed (ABORT: discard what is queued).
 */
extern int vbm_pipe_finish (struct vbm_pipe *p, int abort);

#endif /* VBM_PIPE_H */
