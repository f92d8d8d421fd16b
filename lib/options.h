/* The options of a build (vbm_build_set_*), private: callers reach them
 * only through the functions of virtbmap.h, so they can grow.
 */
#ifndef VBM_OPTIONS_H
#define VBM_OPTIONS_H

#include <stdint.h>

struct vbm_build_options {
  void (*warning) (void *opaque, const char *msg);
  void *warning_opaque;
  void (*progress) (void *opaque, uint64_t done, uint64_t total);
  void *progress_opaque;
  void (*debug) (void *opaque, const char *msg);
  void *debug_opaque;
  int verbose;
  unsigned sector_size;         /* 512, 4096, or 0 to detect */
  unsigned hashes;              /* VBM_HASH_* to compute per file */
};

#endif /* VBM_OPTIONS_H */
