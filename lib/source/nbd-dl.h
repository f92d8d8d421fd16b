/* libnbd, loaded when an NBD source is opened: a raw image never pays
 * for loading it and what it links (libxml2, ICU).  Each source keeps
 * its own table (no global state); dlopen counts the references.
 */
#ifndef VBM_NBD_DL_H
#define VBM_NBD_DL_H

#include <libnbd.h>

#include "virtbmap.h"

/* The functions nbd.c calls, with libnbd.h's own prototypes. */
struct vbm_libnbd {
  void *dl;
  __typeof__ (nbd_create) *create;
  __typeof__ (nbd_close) *close;
  __typeof__ (nbd_shutdown) *shutdown;
  __typeof__ (nbd_get_error) *get_error;
  __typeof__ (nbd_get_errno) *get_errno;
  __typeof__ (nbd_add_meta_context) *add_meta_context;
  __typeof__ (nbd_connect_uri) *connect_uri;
  __typeof__ (nbd_connect_systemd_socket_activation)
    *connect_systemd_socket_activation;
  __typeof__ (nbd_get_size) *get_size;
  __typeof__ (nbd_can_meta_context) *can_meta_context;
  __typeof__ (nbd_get_block_size) *get_block_size;
  __typeof__ (nbd_pread) *pread;
  __typeof__ (nbd_block_status) *block_status;
  __typeof__ (nbd_can_multi_conn) *can_multi_conn;
  __typeof__ (nbd_get_uri) *get_uri;
};

/* Loads libnbd into l: 0, or -1 with err set (not installed, or
 * missing a function).
 */
extern int vbm_libnbd_open (struct vbm_libnbd *l, struct vbm_error *err);
extern void vbm_libnbd_close (struct vbm_libnbd *l);

#endif /* VBM_NBD_DL_H */
