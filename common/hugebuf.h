/* Big growable buffers for bulk data (a name per file...), each in its
 * own anonymous mapping aligned to 2 MiB, all of it in transparent huge
 * pages (vbm_advise_huge, common/hugepages.h): in a VM a 4 KiB page
 * fault can cost ~40 us.  Growing moves the pages (mremap): nothing is
 * copied.  Without huge pages these are ordinary mappings.
 */
#ifndef VBM_HUGEBUF_H
#define VBM_HUGEBUF_H

#include <stddef.h>

/* Grows *ptr, a buffer of *cap bytes (NULL and 0 at first), to at
 * least bytes bytes, keeping its contents.  Returns -1 with errno set
 * (and the buffer unchanged) on failure.
 */
extern int vbm_hugebuf_reserve (void **ptr, size_t *cap, size_t bytes);
extern void vbm_hugebuf_free (void *ptr, size_t cap);

#endif /* VBM_HUGEBUF_H */
