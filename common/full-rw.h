/* pread and pwrite of a whole buffer: retried after EINTR and after
 * short transfers, which a signal or a pipe-like file can cause.
 */
#ifndef VBM_FULL_RW_H
#define VBM_FULL_RW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads count bytes at offset.  Returns count, or fewer (possibly 0)
 * if end of file came first, so callers can tell a truncated file from
 * an I/O error; or -1 with errno set.
 */
extern ssize_t full_pread (int fd, void *buf, size_t count, uint64_t offset);

/* Writes count bytes at offset.  Returns 0, or -1 with errno set (EIO
 * if the file takes no more bytes without saying why).
 */
extern int full_pwrite (int fd, const void *buf, size_t count,
                        uint64_t offset);

#endif /* VBM_FULL_RW_H */
