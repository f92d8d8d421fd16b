#include <config.h>

#include <stdint.h>
#include <sys/mman.h>

#include "hugepages.h"

#define HUGE_PAGE (2u << 20)

void
vbm_advise_huge (void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
  uintptr_t start = ((uintptr_t) p + HUGE_PAGE - 1) & ~(uintptr_t) (HUGE_PAGE - 1);
  uintptr_t end = ((uintptr_t) p + len) & ~(uintptr_t) (HUGE_PAGE - 1);

  /* Only whole huge pages: advice is per mapping, and a failure
   * (no THP in this kernel) changes nothing.
   */
  if (end > start)
    madvise ((void *) start, end - start, MADV_HUGEPAGE);
#endif
}
