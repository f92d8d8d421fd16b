/* Big arrays in transparent huge pages (hugepages.c). */
#ifndef VBM_HUGEPAGES_H
#define VBM_HUGEPAGES_H

#include <stddef.h>

#define VBM_HUGE_PAGE ((size_t) 2 << 20)

/* Asks for huge pages under the LEN bytes at P, if that is big enough
 * to matter.  First touching a 4 KiB page costs a page fault each, and
 * in virtual machines a fault costs tens of microseconds: for the
 * arrays of a big map those were a good part of the run time.
 */
extern void vbm_advise_huge (void *p, size_t len);

#endif /* VBM_HUGEPAGES_H */
