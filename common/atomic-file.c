#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"

#define TEMP_TAG ".tmp-vbm-"

char *
atomic_file_temp_name (const char *path)
{
  char *tmp;

  if (asprintf (&tmp, "%s" TEMP_TAG "%ld", path, (long) getpid ()) == -1)
    return NULL;
  return tmp;
}

/* The temporary's name relative to dirfd. */
static const char *
temp_base (const struct atomic_file *af)
{
  return af->tmp + (af->base - af->path);
}

/* The pid in NAME if it is "BASE.tmp-vbm-PID", else 0. */
static pid_t
stale_pid (const char *name, const char *base)
{
  size_t len = strlen (base);
  const char *p;
  long pid = 0;

  if (strncmp (name, base, len) != 0 ||
      strncmp (name + len, TEMP_TAG, strlen (TEMP_TAG)) != 0)
    return 0;
  p = name + len + strlen (TEMP_TAG);
  if (*p < '1' || *p > '9')
    return 0;
  for (; *p; ++p) {
    if (*p < '0' || *p > '9' || pid > (INT_MAX - 9) / 10)
      return 0;
    pid = pid * 10 + (*p - '0');
  }
  return pid;
}

/* Removes temporaries of this target left by processes that died
 * before commit (kill -9, a crash, power loss).  Only files that are
 * clearly ours: our naming, a regular file of our user, its process
 * gone, its lock free.  Our own pid can be on one only if an earlier
 * process had it; the lock tells that from a thread of ours.
 */
static void
remove_stale (struct atomic_file *af)
{
  struct dirent *e;
  DIR *d;
  int fd;

  fd = openat (af->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd == -1)
    return;                     /* a folder we may not list */
  d = fdopendir (fd);
  if (d == NULL) {
    close (fd);
    return;
  }
  while ((e = readdir (d)) != NULL) {
    pid_t pid = stale_pid (e->d_name, af->base);
    struct stat st, now;
    int tfd;

    if (pid == 0)
      continue;
    if (pid != getpid () && (kill (pid, 0) == 0 || errno != ESRCH))
      continue;
    tfd = openat (af->dirfd, e->d_name,
                  O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (tfd == -1)
      continue;
    /* Checked again just before: the name still holds this file. */
    if (fstat (tfd, &st) == 0 && S_ISREG (st.st_mode) &&
        st.st_uid == geteuid () && flock (tfd, LOCK_EX | LOCK_NB) == 0 &&
        fstatat (af->dirfd, e->d_name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
        now.st_dev == st.st_dev && now.st_ino == st.st_ino)
      unlinkat (af->dirfd, e->d_name, 0);
    close (tfd);
  }
  closedir (d);
}

static int
open_dir (struct atomic_file *af)
{
  const char *slash = strrchr (af->path, '/');
  char *dir;

  af->base = slash ? slash + 1 : af->path;
  if (*af->base == '\0') {
    errno = EISDIR;
    return -1;
  }
  if (slash == NULL)
    dir = strdup (".");
  else if (slash == af->path)
    dir = strdup ("/");
  else
    dir = strndup (af->path, slash - af->path);
  if (dir == NULL)
    return -1;
  af->dir_sync = 1;
  af->dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (af->dirfd == -1 && errno == EACCES) {
    /* Writable but not readable: no listing, no sync. */
    af->dir_sync = 0;
    af->dirfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  }
  free (dir);
  return af->dirfd == -1 ? -1 : 0;
}

int
atomic_file_open (struct atomic_file *af, const char *path, unsigned flags)
{
  const mode_t mode = 0666;     /* less the umask, by open */
  struct stat st;
  int e;

  *af = (struct atomic_file) { .fd = -1, .dirfd = -1 };
  af->path = strdup (path);
  if (af->path == NULL)
    goto fail;
  /* A device or a FIFO (-o /dev/stdout, /dev/null) is written as it
   * is: a rename would replace the device node with a file.
   */
  if (stat (path, &st) == 0 && !S_ISREG (st.st_mode) &&
      !S_ISDIR (st.st_mode)) {
    if (flags & ATOMIC_FILE_NAMED) {
      errno = ENOTSUP;
      goto fail;
    }
    af->fd = open (path, O_WRONLY | O_CLOEXEC);
    if (af->fd == -1)
      goto fail;
    af->direct = 1;
    return 0;
  }
  if (open_dir (af) == -1)
    goto fail;
  remove_stale (af);

  /* Unnamed: linkat at commit goes through /proc (AT_EMPTY_PATH
   * would need CAP_DAC_READ_SEARCH).
   */
  if (!(flags & ATOMIC_FILE_NAMED) && access ("/proc/self/fd", X_OK) == 0) {
    af->fd = openat (af->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
    if (af->fd == -1 && errno != EOPNOTSUPP && errno != EISDIR &&
        errno != EINVAL)
      goto fail;
  }
  if (af->fd == -1) {
    af->tmp = atomic_file_temp_name (path);
    if (af->tmp == NULL)
      goto fail;
    af->fd = openat (af->dirfd, temp_base (af),
                     O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (af->fd == -1) {
      free (af->tmp);
      af->tmp = NULL;
      goto fail;
    }
  }
  /* Tells the next run that this one is alive; a filesystem without
   * locks (ENOLCK) only loses the cleanup of our stale files.
   */
  flock (af->fd, LOCK_EX | LOCK_NB);
  return 0;

 fail:
  e = errno;
  atomic_file_abort (af);
  errno = e;
  return -1;
}

int
atomic_file_commit (struct atomic_file *af)
{
  char proc[64];
  int e;

  if (af->direct) {
    e = close (af->fd);
    af->fd = -1;
    atomic_file_abort (af);
    return e;
  }
  if (fsync (af->fd) == -1)
    goto fail;
  if (af->tmp == NULL) {
    /* linkat cannot replace a file: a name of our own, then rename. */
    af->tmp = atomic_file_temp_name (af->path);
    if (af->tmp == NULL)
      goto fail;
    snprintf (proc, sizeof proc, "/proc/self/fd/%d", af->fd);
    if (linkat (AT_FDCWD, proc, af->dirfd, temp_base (af),
                AT_SYMLINK_FOLLOW) == -1) {
      e = errno;
      free (af->tmp);
      af->tmp = NULL;
      errno = e;
      goto fail;
    }
  }
  if (renameat (af->dirfd, temp_base (af), af->dirfd, af->base) == -1)
    goto fail;
  free (af->tmp);
  af->tmp = NULL;               /* nothing to remove any more */
  /* The rename itself durable.  Some filesystems cannot sync a
   * folder (EINVAL): their rename is as durable as it gets.
   */
  if (af->dir_sync && fsync (af->dirfd) == -1 && errno != EINVAL)
    goto fail;
  if (close (af->fd) == -1) {
    af->fd = -1;
    goto fail;
  }
  af->fd = -1;
  atomic_file_abort (af);
  return 0;

 fail:
  e = errno;
  atomic_file_abort (af);
  errno = e;
  return -1;
}

void
atomic_file_abort (struct atomic_file *af)
{
  if (af->tmp)
    unlinkat (af->dirfd, temp_base (af), 0);
  if (af->fd >= 0)
    close (af->fd);
  if (af->dirfd >= 0)
    close (af->dirfd);
  free (af->tmp);
  free (af->path);
  *af = (struct atomic_file) { .fd = -1, .dirfd = -1 };
}
