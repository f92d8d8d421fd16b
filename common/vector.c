#include <config.h>

#include <errno.h>
#include <stdint.h>

#include "vector.h"
#include "checked-overflow.h"
#include "hugepages.h"

/* Same layout as every DEFINE_VECTOR_TYPE struct. */
struct generic_vector {
  void *ptr;
  size_t len;
  size_t cap;
};

int
generic_vector_reserve (void *vp, size_t n, size_t itemsize)
{
  struct generic_vector *v = vp;
  size_t want, newcap, bytes;
  void *p;

  if (ADD_OVERFLOW (v->len, n, &want)) {
    errno = ENOMEM;
    return -1;
  }
  if (want <= v->cap)
    return 0;
  /* Grow by half again so appends are amortised O(1). */
  newcap = v->cap + v->cap / 2;
  if (newcap < want)
    newcap = want;
  if (newcap < 8)
    newcap = 8;
  if (MUL_OVERFLOW (newcap, itemsize, &bytes)) {
    errno = ENOMEM;
    return -1;
  }
  /* A first big allocation (a reserve for what is coming) is aligned
   * so that huge pages can back all of it.
   */
  if (v->ptr == NULL && bytes >= VBM_HUGE_PAGE) {
    int e = posix_memalign (&p, VBM_HUGE_PAGE, bytes);

    if (e != 0) {
      errno = e;
      return -1;
    }
  }
  else {
    p = realloc (v->ptr, bytes);
    if (p == NULL)
      return -1;
  }
  v->ptr = p;
  v->cap = newcap;
  vbm_advise_huge (p, bytes);
  return 0;
}
