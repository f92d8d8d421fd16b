/* Overflow-checked arithmetic: true means the result overflowed. */
#ifndef VBM_CHECKED_OVERFLOW_H
#define VBM_CHECKED_OVERFLOW_H

#include <stdbool.h>

#define ADD_OVERFLOW(a, b, r) __builtin_add_overflow ((a), (b), (r))
#define MUL_OVERFLOW(a, b, r) __builtin_mul_overflow ((a), (b), (r))

#endif /* VBM_CHECKED_OVERFLOW_H */
