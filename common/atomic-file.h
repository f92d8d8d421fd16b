/* Atomic output: a file is written under a temporary name in its
 * target's folder, then renamed over the target, so a reader (or a
 * crash, or kill -9) sees the old file or the whole new one, never a
 * part.
 *
 *   struct atomic_file af;
 *   if (atomic_file_open (&af, path, 0) == -1) ...error (errno)
 *   ...write af.fd...
 *   if (atomic_file_commit (&af) == -1) ...error, nothing left...
 *   (or atomic_file_abort (&af) to give up)
 *
 * The file is created 0666 less the umask, like any new file.  commit
 * syncs the file before the rename and the folder after it.
 *
 * Where the filesystem has O_TMPFILE (ext4, xfs, btrfs, tmpfs) the
 * temporary has no name until commit, so nothing outlives the process
 * whatever kills it.  Otherwise, or with ATOMIC_FILE_NAMED, it is
 * named atomic_file_temp_name (path), "PATH.tmp-vbm-PID", holding a
 * lock (flock) while open; the next atomic_file_open of the same path
 * removes such files whose process is gone and whose lock is free.
 *
 * A target that exists and is neither a regular file nor a folder (a
 * device, a FIFO: -o /dev/stdout) is opened and written in place, and
 * commit only closes it; with ATOMIC_FILE_NAMED that fails (ENOTSUP).
 */
#ifndef VBM_ATOMIC_FILE_H
#define VBM_ATOMIC_FILE_H

struct atomic_file {
  char *path;                   /* the target */
  const char *base;             /* its last component, inside path */
  char *tmp;                    /* the temporary's path, NULL if unnamed */
  int fd;                       /* the temporary, open read-write */
  int dirfd;                    /* the target's folder */
  int dir_sync;                 /* dirfd can be fsync'd */
  int direct;                   /* the target is a device or FIFO,
                                 * written in place */
};

/* The temporary needs a name at once: another layer opens it again by
 * path (SQLite does).
 */
#define ATOMIC_FILE_NAMED 1

/* Returns 0, or -1 with errno set (nothing left behind; ENOTSUP: a
 * device target with ATOMIC_FILE_NAMED).
 */
extern int atomic_file_open (struct atomic_file *af, const char *path,
                             unsigned flags);

/* Syncs the temporary, renames it over the target, syncs the folder
 * and frees af.  Returns 0, or -1 with errno set and the temporary
 * removed.
 */
extern int atomic_file_commit (struct atomic_file *af);

/* Removes the temporary and frees af; the target is untouched.  Does
 * nothing after commit or abort.
 */
extern void atomic_file_abort (struct atomic_file *af);

/* The name a named temporary of path has in this process (malloc'd, or
 * NULL with errno set): what a signal handler removes, since a handler
 * cannot reach the library's state.
 */
extern char *atomic_file_temp_name (const char *path);

#endif /* VBM_ATOMIC_FILE_H */
