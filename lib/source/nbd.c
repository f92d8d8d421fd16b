/* Sources read through libnbd: remote NBD URIs, and any image format
 * qemu reads (qcow2, vmdk, ...) served by a private read-only qemu-nbd
 * started with systemd socket activation.
 *
 * A libnbd handle is thread-safe, but a synchronous command holds the
 * handle's lock until its reply: one handle carries one request at a
 * time, and the server's worker threads queued behind it (qcow2 was
 * served at 0.40x qemu-nbd's throughput that way).  So when the
 * server allows several connections to see the same data (it
 * advertises multi-conn; our qemu-nbd is started with --shared), a
 * few more connections are opened, and each read takes a free one.
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "internal.h"
#include "nbd-dl.h"
#include "source.h"

/* qemu-nbd answers reads of up to 32 MiB. */
#define NBD_MAX_READ (32 * 1024 * 1024)

/* Connections to a server that allows multi-conn: enough for the
 * server's worker threads to overlap their waits, few enough to be
 * polite to a remote.
 */
#define NBD_CONNS 4

struct conn {
  struct nbd_handle *h;
  pthread_mutex_t lock;         /* held while a command is on h */
};

struct nbd {
  struct vbm_libnbd l;          /* libnbd, loaded for this source */
  struct conn c[NBD_CONNS];
  unsigned n;                   /* connections open, c[0] first */
  unsigned next;                /* where the next search starts, atomic */
  uint32_t max_read;
  int can_extents;              /* the server reports base:allocation */
};

/* A free connection if there is one, else the next in turn (whose
 * lock then waits for its command to finish).
 */
static struct conn *
conn_get (struct nbd *nbd)
{
  unsigned start = __atomic_fetch_add (&nbd->next, 1, __ATOMIC_RELAXED);
  unsigned i;

  for (i = 0; i < nbd->n; ++i) {
    struct conn *c = &nbd->c[(start + i) % nbd->n];

    if (pthread_mutex_trylock (&c->lock) == 0)
      return c;
  }
  pthread_mutex_lock (&nbd->c[start % nbd->n].lock);
  return &nbd->c[start % nbd->n];
}

static void
conn_put (struct conn *c)
{
  pthread_mutex_unlock (&c->lock);
}

/* Largest block status request: the protocol's count is 32 bits. */
#define NBD_MAX_EXTENTS_REQUEST (1U << 30)

static const char *const qemu_formats[] = {
  "qcow2", "vmdk", "vdi", "vhdx", "vpc", "qed", NULL
};

const char *
vbm_source_qemu_format (const char *format)
{
  size_t i;

  for (i = 0; qemu_formats[i]; ++i)
    if (strcmp (format, qemu_formats[i]) == 0)
      return qemu_formats[i];
  return NULL;
}

int
vbm_source_is_nbd_uri (const char *path)
{
  static const char *const schemes[] = {
    "nbd://", "nbds://", "nbd+unix://", "nbds+unix://", "nbd+vsock://",
    "nbds+vsock://", NULL
  };
  size_t i;

  for (i = 0; schemes[i]; ++i)
    if (strncmp (path, schemes[i], strlen (schemes[i])) == 0)
      return 1;
  return 0;
}

static int
nbd_source_pread (struct vbm_source *src, void *buf, size_t count,
                  uint64_t offset, struct vbm_error *err)
{
  struct nbd *nbd = src->priv;
  char *p = buf;

  while (count > 0) {
    size_t n = count < nbd->max_read ? count : nbd->max_read;
    struct conn *c = conn_get (nbd);
    int r = nbd->l.pread (c->h, p, n, offset, 0);

    /* The error is the thread's own: read after the unlock. */
    conn_put (c);
    if (r == -1) {
      vbm_set_error (err, nbd->l.get_errno () ? nbd->l.get_errno () : EIO,
                     "%s: read at offset %" PRIu64 ": %s",
                     src->path, offset, nbd->l.get_error ());
      return -1;
    }
    p += n;
    count -= n;
    offset += n;
  }
  return 0;
}

/* One block status reply, handed to the caller's fn. */
struct extents_ctx {
  vbm_extent_fn fn;
  void *opaque;
  uint64_t pos;                 /* where the next extent starts */
  uint64_t end;
  int stop;
};

static int
extent_cb (void *user_data, const char *metacontext, uint64_t offset,
           uint32_t *entries, size_t nr_entries, int *error)
{
  struct extents_ctx *c = user_data;
  size_t i;

  if (strcmp (metacontext, LIBNBD_CONTEXT_BASE_ALLOCATION) != 0)
    return 0;
  /* A hostile server could send zero lengths: they are skipped, and
   * the caller's loop stops when a reply makes no progress.
   */
  for (i = 0; i + 1 < nr_entries && !c->stop && c->pos < c->end; i += 2) {
    uint64_t len = entries[i];
    unsigned flags = entries[i + 1] & (VBM_EXTENT_HOLE | VBM_EXTENT_ZERO);

    if (len == 0)
      continue;
    if (c->fn (c->opaque, c->pos, len, flags) != 0)
      c->stop = 1;
    c->pos += len;
  }
  return 0;
}

static int
nbd_source_extents (struct vbm_source *src, uint64_t count, uint64_t offset,
                    vbm_extent_fn fn, void *opaque, struct vbm_error *err)
{
  struct nbd *nbd = src->priv;
  struct extents_ctx c = {
    .fn = fn, .opaque = opaque, .pos = offset, .end = offset + count,
  };

  if (!nbd->can_extents) {
    vbm_set_error (err, ENOTSUP, "%s: the NBD server does not report "
                   "base:allocation", src->path);
    return -1;
  }
  while (c.pos < c.end && !c.stop) {
    uint64_t start = c.pos;
    uint64_t n = c.end - c.pos;

    if (n > NBD_MAX_EXTENTS_REQUEST)
      n = NBD_MAX_EXTENTS_REQUEST;
    struct conn *cn = conn_get (nbd);
    int r = nbd->l.block_status (cn->h, n, start,
                              (nbd_extent_callback) { .callback = extent_cb,
                                                      .user_data = &c }, 0);

    conn_put (cn);
    if (r == -1) {
      vbm_set_error (err, nbd->l.get_errno () ? nbd->l.get_errno () : EIO,
                     "%s: block status at offset %" PRIu64 ": %s",
                     src->path, start, nbd->l.get_error ());
      return -1;
    }
    if (c.pos == start) {
      vbm_set_error (err, EIO, "%s: block status at offset %" PRIu64
                     ": the server described nothing", src->path, start);
      return -1;
    }
  }
  return 0;
}

static void
nbd_source_close (struct vbm_source *src)
{
  struct nbd *nbd = src->priv;
  unsigned i;

  if (nbd == NULL)
    return;
  /* c[0] last: closing it waits for our qemu-nbd, which exits once
   * its last client has gone.
   */
  for (i = NBD_CONNS; i-- > 0; ) {
    if (nbd->c[i].h) {
      /* Lets qemu-nbd exit cleanly; errors do not matter now. */
      nbd->l.shutdown (nbd->c[i].h, 0);
      nbd->l.close (nbd->c[i].h);
    }
    pthread_mutex_destroy (&nbd->c[i].lock);
  }
  vbm_libnbd_close (&nbd->l);
  free (nbd);
}

static const struct vbm_source_ops nbd_ops = {
  .name = "nbd",
  .pread = nbd_source_pread,
  .close = nbd_source_close,
  .extents = nbd_source_extents,
};

/* A libnbd handle asking for holes, not yet connected. */
static struct nbd_handle *
new_handle (struct nbd *nbd, struct vbm_error *err)
{
  struct nbd_handle *h = nbd->l.create ();

  if (h == NULL) {
    vbm_set_error (err, nbd->l.get_errno (), "nbd_create: %s",
                   nbd->l.get_error ());
    return NULL;
  }
  /* Holes, if the server knows them: asked for before connecting. */
  if (nbd->l.add_meta_context (h, LIBNBD_CONTEXT_BASE_ALLOCATION) == -1) {
    vbm_set_error (err, nbd->l.get_errno (), "nbd_add_meta_context: %s",
                   nbd->l.get_error ());
    nbd->l.close (h);
    return NULL;
  }
  return h;
}

/* A new source with one libnbd handle, not yet connected. */
static struct vbm_source *
new_source (const char *path, const char *format, struct vbm_error *err)
{
  struct vbm_source *src = vbm_source_new (path, &nbd_ops, sizeof (struct nbd),
                                           err);
  struct nbd *nbd;
  unsigned i;

  if (src == NULL)
    return NULL;
  nbd = src->priv;
  src->format = format;
  for (i = 0; i < NBD_CONNS; ++i)
    pthread_mutex_init (&nbd->c[i].lock, NULL);
  if (vbm_libnbd_open (&nbd->l, err) == -1) {
    vbm_source_close (src);
    return NULL;
  }
  nbd->c[0].h = new_handle (nbd, err);
  if (nbd->c[0].h == NULL) {
    vbm_source_close (src);
    return NULL;
  }
  nbd->n = 1;
  return src;
}

/* More connections to the server c[0] is connected to, at uri, if it
 * allows them (multi-conn).  Each must show the same disk; one that
 * cannot be made just leaves fewer: c[0] alone works.
 */
static void
more_connections (struct vbm_source *src, const char *uri)
{
  struct nbd *nbd = src->priv;
  struct vbm_error ignored;

  if (nbd->l.can_multi_conn (nbd->c[0].h) != 1)
    return;
  while (nbd->n < NBD_CONNS) {
    struct nbd_handle *h = new_handle (nbd, &ignored);

    if (h == NULL)
      return;
    if (nbd->l.connect_uri (h, uri) == -1 ||
        nbd->l.get_size (h) != (int64_t) src->size ||
        (nbd->l.can_meta_context (h, LIBNBD_CONTEXT_BASE_ALLOCATION) == 1)
        != nbd->can_extents) {
      nbd->l.close (h);
      return;
    }
    nbd->c[nbd->n++].h = h;
  }
}

/* After connecting: the size and the largest read to send. */
static int
finish_connect (struct vbm_source *src, struct vbm_error *err)
{
  struct nbd *nbd = src->priv;
  int64_t size, max;

  size = nbd->l.get_size (nbd->c[0].h);
  if (size == -1) {
    vbm_set_error (err, nbd->l.get_errno (), "%s: %s", src->path,
                   nbd->l.get_error ());
    return -1;
  }
  src->size = size;
  nbd->can_extents =
    nbd->l.can_meta_context (nbd->c[0].h, LIBNBD_CONTEXT_BASE_ALLOCATION) == 1;
  nbd->max_read = NBD_MAX_READ;
  max = nbd->l.get_block_size (nbd->c[0].h, LIBNBD_SIZE_MAXIMUM);
  if (max > 0 && max < NBD_MAX_READ)
    nbd->max_read = max;
  return 0;
}

struct vbm_source *
vbm_source_open_nbd_uri (const char *uri, struct vbm_error *err)
{
  struct vbm_source *src = new_source (uri, "nbd", err);
  struct nbd *nbd;

  if (src == NULL)
    return NULL;
  nbd = src->priv;
  if (nbd->l.connect_uri (nbd->c[0].h, uri) == -1) {
    vbm_set_error (err, nbd->l.get_errno () ? nbd->l.get_errno () : EIO,
                   "%s: %s", uri, nbd->l.get_error ());
    vbm_source_close (src);
    return NULL;
  }
  if (finish_connect (src, err) == -1) {
    vbm_source_close (src);
    return NULL;
  }
  more_connections (src, uri);
  return src;
}

/* Whether prog is an executable on $PATH. */
static int
on_path (const char *prog)
{
  const char *path = getenv ("PATH"), *p, *colon;

  if (path == NULL)
    path = "/usr/bin:/bin";
  for (p = path; ; p = colon + 1) {
    CLEANUP_FREE char *file = NULL;
    int len;

    colon = strchr (p, ':');
    len = colon ? colon - p : (int) strlen (p);
    if (asprintf (&file, "%.*s/%s", len, len ? p : ".", prog) == -1)
      return 0;
    if (access (file, X_OK) == 0)
      return 1;
    if (colon == NULL)
      return 0;
  }
}

struct vbm_source *
vbm_source_open_qemu (const char *path, const char *format,
                      struct vbm_error *err)
{
  const char *fmt = vbm_source_qemu_format (format);
  struct vbm_source *src;
  struct nbd *nbd;
  struct stat st;
  char shared[32];
  /* --shared: our further connections (qemu-nbd takes one client by
   * default, and then does not advertise multi-conn).
   */
  char *argv[] = {
    (char *) "qemu-nbd", (char *) "-r", shared, (char *) "-f", (char *) fmt,
    (char *) path, NULL
  };
  CLEANUP_FREE char *uri = NULL;

  if (fmt == NULL) {
    vbm_set_error (err, ENOTSUP, "%s: qemu-nbd cannot open format '%s'",
                   path, format);
    return NULL;
  }
  /* Before qemu-nbd: its own message would be lost in its stderr. */
  if (stat (path, &st) == -1) {
    vbm_set_error (err, errno, "%s: %s", path, strerror (errno));
    return NULL;
  }
  /* qemu-nbd would wait for ever on a FIFO with no writer. */
  if (!S_ISREG (st.st_mode) && !S_ISBLK (st.st_mode)) {
    vbm_set_error (err, EINVAL, "%s: not a regular file or block device",
                   path);
    return NULL;
  }
  if (!on_path ("qemu-nbd")) {
    vbm_set_error (err, ENOENT, "%s: reading %s images needs qemu-nbd, "
                   "which is not on $PATH: install the Debian package "
                   "qemu-utils", path, fmt);
    return NULL;
  }
  src = new_source (path, fmt, err);
  if (src == NULL)
    return NULL;
  src->mtime = st.st_mtime;
  nbd = src->priv;
  snprintf (shared, sizeof shared, "--shared=%d", NBD_CONNS);
  if (nbd->l.connect_systemd_socket_activation (nbd->c[0].h, argv) == -1) {
    vbm_set_error (err, nbd->l.get_errno () ? nbd->l.get_errno () : EIO,
                   "%s: qemu-nbd -r -f %s: %s (is it a valid %s image?)",
                   path, fmt, nbd->l.get_error (), fmt);
    vbm_source_close (src);
    return NULL;
  }
  if (finish_connect (src, err) == -1) {
    vbm_source_close (src);
    return NULL;
  }
  /* The socket libnbd made for qemu-nbd, as a URI. */
  uri = nbd->l.get_uri (nbd->c[0].h);
  if (uri)
    more_connections (src, uri);
  return src;
}
