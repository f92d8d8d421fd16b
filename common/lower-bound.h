/* The binary search of a sorted array for the first element not
 * before a key (C++'s std::lower_bound, Rust's partition_point): the
 * arrays of the readers are of different types and sorted on
 * different keys, so the key test is an expression of the index.
 */
#ifndef VBM_LOWER_BOUND_H
#define VBM_LOWER_BOUND_H

#include <stddef.h>

/* LOWER_BOUND (i, n, before): the first index in [0, n) at which
 * before, an expression of the index variable i, is false; n if it is
 * true everywhere.  before must be true on a prefix of [0, n) and false
 * after it (e.g. a[i].key < key over an array sorted by key).  It is
 * evaluated only at indexes in [0, n), about log2 (n) times.
 */
#define LOWER_BOUND(i, n, before)                               \
  ({                                                            \
    size_t lower_bound_lo_ = 0, lower_bound_hi_ = (n);          \
    while (lower_bound_lo_ < lower_bound_hi_) {                 \
      size_t i = lower_bound_lo_ +                              \
        (lower_bound_hi_ - lower_bound_lo_) / 2;                \
      if (before)                                               \
        lower_bound_lo_ = i + 1;                                \
      else                                                      \
        lower_bound_hi_ = i;                                    \
    }                                                           \
    lower_bound_lo_;                                            \
  })

#endif /* VBM_LOWER_BOUND_H */
