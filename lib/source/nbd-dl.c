/* libnbd loaded on first use (nbd-dl.h). */
#include <config.h>

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "internal.h"
#include "nbd-dl.h"

/* libnbd's soname since 1.0. */
#define LIBNBD_SONAME "libnbd.so.0"

static const struct {
  const char *name;
  size_t at;                    /* offset of its pointer in the table */
} functions[] = {
#define F(f) { "nbd_" #f, offsetof (struct vbm_libnbd, f) }
  F (create), F (close), F (shutdown), F (get_error), F (get_errno),
  F (add_meta_context), F (connect_uri),
  F (connect_systemd_socket_activation), F (get_size),
  F (can_meta_context), F (get_block_size), F (pread), F (block_status),
  F (can_multi_conn), F (get_uri),
#undef F
};

int
vbm_libnbd_open (struct vbm_libnbd *l, struct vbm_error *err)
{
  size_t i;

  /* NODELETE: a sanitizer's reports keep libnbd's symbols after the
   * last source closes.
   */
  l->dl = dlopen (LIBNBD_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (l->dl == NULL) {
    vbm_set_error (err, ENOENT, "NBD sources need libnbd (Debian package "
                   "libnbd0): %s", dlerror ());
    return -1;
  }
  for (i = 0; i < sizeof functions / sizeof functions[0]; ++i) {
    void *f = dlsym (l->dl, functions[i].name);

    if (f == NULL) {
      vbm_set_error (err, ENOSYS, "%s: no %s: libnbd too old?",
                     LIBNBD_SONAME, functions[i].name);
      vbm_libnbd_close (l);
      return -1;
    }
    /* POSIX: a function pointer and void * convert both ways. */
    memcpy ((char *) l + functions[i].at, &f, sizeof f);
  }
  return 0;
}

void
vbm_libnbd_close (struct vbm_libnbd *l)
{
  if (l->dl)
    dlclose (l->dl);
  l->dl = NULL;
}
