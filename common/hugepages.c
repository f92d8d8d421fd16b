#include <config.h>

#include <stdint.h>
#include <sys/mman.h>

#include "hugepages.h"

void
vbm_advise_huge (void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
  const uintptr_t mask = ~(uintptr_t) (VBM_HUGE_PAGE - 1);
  uintptr_t start = ((uintptr_t) p + VBM_HUGE_PAGE - 1) & mask;
  uintptr_t end = ((uintptr_t) p + len) & mask;

  /* Only whole huge pages: advice is per mapping, and a failure
   * (no THP in this kernel) changes nothing.
   */
  if (end > start)
    madvise ((void *) start, end - start, MADV_HUGEPAGE);
#endif
}
