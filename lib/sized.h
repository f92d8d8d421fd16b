/* Public structs that grow: the caller says in their first member
 * (size_t struct_size) how big its copy is, and the library fills in
 * what fits.
 */
#ifndef VBM_SIZED_H
#define VBM_SIZED_H

#include <stddef.h>
#include <string.h>

/* The size the caller set at the start of a public struct. */
static inline size_t
vbm_sized_size (const void *dst)
{
  size_t size;

  memcpy (&size, dst, sizeof size);
  return size;
}

/* Copies the library's full struct src (src_size bytes, struct_size
 * first) into the caller's dst: the fields that fit in both, and then
 * the smaller size into dst's struct_size, which tells a caller built
 * against a later header which of its fields were filled.  Nothing is
 * written past src_size: a size never set cannot make the library
 * write past a struct of its own version.
 */
static inline void
vbm_copy_sized (void *dst, const void *src, size_t src_size)
{
  const size_t dst_size = vbm_sized_size (dst);
  const size_t n = dst_size < src_size ? dst_size : src_size;

  if (n > sizeof (size_t))
    memcpy ((char *) dst + sizeof (size_t),
            (const char *) src + sizeof (size_t), n - sizeof (size_t));
  memcpy (dst, &n, sizeof n);
}

#endif /* VBM_SIZED_H */
