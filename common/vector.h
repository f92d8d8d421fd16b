/* A type-safe growable array.
 *
 *   DEFINE_VECTOR_TYPE (string_vector, char *);
 *   string_vector v = empty_vector;
 *   if (string_vector_append (&v, s) == -1) ...
 *   free (v.ptr);
 */
#ifndef VBM_VECTOR_H
#define VBM_VECTOR_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Grows a vector so that it has room for n more items.  Returns -1
 * with errno set on overflow or out of memory.
 */
extern int generic_vector_reserve (void *vp, size_t n, size_t itemsize);

#define DEFINE_VECTOR_TYPE(name, type)                                  \
  typedef struct name {                                                 \
    type *ptr;                  /* items */                             \
    size_t len;                 /* items in use */                      \
    size_t cap;                 /* items allocated */                   \
  } name;                                                               \
                                                                        \
  static inline int __attribute__ ((__unused__))                        \
  name##_reserve (name *v, size_t n)                                    \
  {                                                                     \
    return generic_vector_reserve (v, n, sizeof (type));                \
  }                                                                     \
                                                                        \
  static inline int __attribute__ ((__unused__))                        \
  name##_append (name *v, type elem)                                    \
  {                                                                     \
    if (v->len >= v->cap && name##_reserve (v, 1) == -1)                \
      return -1;                                                        \
    v->ptr[v->len++] = elem;                                            \
    return 0;                                                           \
  }                                                                     \
                                                                        \
  static inline void __attribute__ ((__unused__))                       \
  name##_reset (name *v)                                                \
  {                                                                     \
    free (v->ptr);                                                      \
    v->ptr = NULL;                                                      \
    v->len = v->cap = 0;                                                \
  }                                                                     \
                                                                        \
  static inline void __attribute__ ((__unused__))                       \
  name##_sort (name *v, int (*compare) (const type *, const type *))    \
  {                                                                     \
    if (v->len > 1) /* qsort must not be handed NULL */                 \
      qsort (v->ptr, v->len, sizeof (type),                             \
             (int (*) (const void *, const void *)) compare);           \
  }

#define empty_vector { .ptr = NULL, .len = 0, .cap = 0 }

#endif /* VBM_VECTOR_H */
