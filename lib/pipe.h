/* A bounded byte pipe to one consumer thread (pipe.c).
 *
 * The producer reserves space, writes a record and commits it; full
 * chunks go to a thread that hands each to the consumer function.
 * Memory is bounded: the producer waits while PIPE_CHUNKS chunks are
 * queued.
 */
#ifndef VBM_PIPE_H
#define VBM_PIPE_H

#include <stddef.h>

struct vbm_error;
struct vbm_pipe;

/* Called in the consumer thread with whole records.  Returns -1 (with
 * its own error recorded by the caller's opaque) to stop the pipe.
 */
typedef int (*vbm_pipe_consumer) (void *opaque, const char *buf, size_t len);

extern struct vbm_pipe *vbm_pipe_start (vbm_pipe_consumer fn, void *opaque,
                                        struct vbm_error *err);
/* Room for a record of LEN bytes, or NULL (error set) if the consumer
 * failed or memory ran out.
 */
extern char *vbm_pipe_reserve (struct vbm_pipe *p, size_t len,
                               struct vbm_error *err);
extern void vbm_pipe_commit (struct vbm_pipe *p, size_t len);
/* Flushes, waits for the consumer and frees the pipe.  Returns -1 if
 * the consumer failed (ABORT: discard what is queued).
 */
extern int vbm_pipe_finish (struct vbm_pipe *p, int abort);

#endif /* VBM_PIPE_H */
