/* The EnCase evidence source (ewf.c) and its verification
 * (ewf-verify.c): private to the library.
 */
#ifndef VBM_EWF_H
#define VBM_EWF_H

#include <pthread.h>
#include <stdint.h>

#include <libewf.h>

#include "source.h"

/* The first 8 bytes of every segment file. */
#define VBM_EWF1_MAGIC "EVF\x09\x0d\x0a\xff\x00" /* E01: EWF1 */
#define VBM_EWF2_MAGIC "EVF2\x0d\x0a\x81\x00"    /* Ex01: EWF2 */

struct vbm_ewf {
  libewf_handle_t *handle;
  pthread_mutex_t lock;         /* around every use of handle */
  int lock_init;
  int opened;
  uint32_t bytes_per_sector;
};

extern void vbm_ewf_error (struct vbm_error *err, int errnum,
                           libewf_error_t **e, const char *path,
                           const char *what);
/* The source's pread, and *corrupt set when it failed because a
 * chunk it covers fails its checksum.
 */
extern int vbm_ewf_read (struct vbm_source *src, void *buf, size_t count,
                         uint64_t offset, int *corrupt,
                         struct vbm_error *err);
extern int vbm_ewf_verify (struct vbm_source *src,
                           struct vbm_source_digests *d,
                           vbm_progress_fn progress, void *opaque,
                           struct vbm_error *err);

#endif /* VBM_EWF_H */
