/* The extents a backend reports for one block status request,
 * clipped to the request and merged, ready to become block
 * descriptors.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>

#include "checked-overflow.h"
#include "internal.h"

void
nbds_extents_init (struct nbds_extents *e, uint64_t offset, uint32_t count,
                   bool req_one)
{
  e->start = e->next = offset;
  e->end = offset + count;      /* checked against the export size */
  e->max = req_one ? 1 : NBDS_MAX_EXTENTS;
  e->n = 0;
  e->d = NULL;
  e->cap = 0;
}

void
nbds_extents_free (struct nbds_extents *e)
{
  free (e->d);
  e->d = NULL;
  e->n = e->cap = 0;
}

int
nbds_extents_add (struct nbds_extents *e, uint64_t offset, uint64_t length,
                  uint32_t type)
{
  uint64_t end;
  struct nbd_block_descriptor *last;

  if (length == 0)
    return e->next >= e->end || e->n >= e->max;
  if (offset > e->next) {
    errno = EINVAL;             /* a gap: the backend is broken */
    return -1;
  }
  if (ADD_OVERFLOW (offset, length, &end))
    end = UINT64_MAX;
  if (end <= e->next)
    return 0;                   /* wholly before what we need */
  if (e->next >= e->end)
    return 1;
  if (end > e->end)
    end = e->end;
  length = end - e->next;       /* < 2^32: the request is 32 bit */
  type &= NBDS_EXTENT_HOLE | NBDS_EXTENT_ZERO;

  last = e->n > 0 ? &e->d[e->n - 1] : NULL;
  if (last && last->status_flags == type &&
      last->length + length <= UINT32_MAX)
    last->length += length;
  else {
    if (e->n >= e->max)
      return 1;
    if (e->n == e->cap) {
      size_t cap = e->cap ? e->cap * 2 : 16;
      struct nbd_block_descriptor *d = realloc (e->d, cap * sizeof *d);

      if (d == NULL)
        return -1;
      e->d = d;
      e->cap = cap;
    }
    e->d[e->n].length = length;
    e->d[e->n].status_flags = type;
    e->n++;
  }
  e->next = end;
  return e->next >= e->end || e->n >= e->max;
}
