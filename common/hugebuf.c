/* Big buffers in 2 MiB aligned mappings (see hugebuf.h). */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#include "checked-overflow.h"
#include "hugebuf.h"
#include "hugepages.h"

/* A fresh mapping of len bytes (a multiple of VBM_HUGE_PAGE) at a
 * multiple of VBM_HUGE_PAGE, or NULL.
 */
static char *
map_aligned (size_t len)
{
  size_t all;
  char *p, *a;

  if (ADD_OVERFLOW (len, VBM_HUGE_PAGE, &all)) {
    errno = ENOMEM;
    return NULL;
  }
  p = mmap (NULL, all, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
            -1, 0);
  if (p == MAP_FAILED)
    return NULL;
  a = (char *) (((uintptr_t) p + VBM_HUGE_PAGE - 1) & ~(uintptr_t) (VBM_HUGE_PAGE - 1));
  if (a > p)
    munmap (p, a - p);
  if (p + all > a + len)
    munmap (a + len, p + all - (a + len));
  return a;
}

int
vbm_hugebuf_reserve (void **ptr, size_t *cap, size_t bytes)
{
  size_t len;
  char *p;

  if (bytes <= *cap)
    return 0;
  len = *cap + *cap / 2;
  if (len < bytes)
    len = bytes;
  if (ADD_OVERFLOW (len, VBM_HUGE_PAGE - 1, &len)) {
    errno = ENOMEM;
    return -1;
  }
  len &= ~(VBM_HUGE_PAGE - 1);
  p = map_aligned (len);
  if (p == NULL)
    return -1;
  vbm_advise_huge (p, len);
  /* The old pages move to the start of the new mapping. */
  if (*cap > 0 &&
      mremap (*ptr, *cap, *cap, MREMAP_MAYMOVE | MREMAP_FIXED, p)
      == MAP_FAILED) {
    int err = errno;

    munmap (p, len);
    errno = err;
    return -1;
  }
  *ptr = p;
  *cap = len;
  return 0;
}

void
vbm_hugebuf_free (void *ptr, size_t cap)
{
  if (ptr)
    munmap (ptr, cap);
}
