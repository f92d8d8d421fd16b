/* Unit test of common/atomic-file.c: the target is replaced whole or
 * not at all, with the umask's mode, and no temporary is left after a
 * commit, an abort, a failed rename or a killed writer.
 */
#include <config.h>

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomic-file.h"

static char dir[] = "/tmp/test-atomic-file.XXXXXX";
static char path[4096];

/* Entries of the test folder, "." and ".." aside. */
static int
entries (void)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  int n = 0;

  assert (d);
  while ((e = readdir (d)) != NULL)
    if (strcmp (e->d_name, ".") && strcmp (e->d_name, ".."))
      n++;
  closedir (d);
  return n;
}

static void
check_content (const char *p, const char *want)
{
  char buf[256];
  int fd = open (p, O_RDONLY);
  ssize_t n;

  assert (fd >= 0);
  n = read (fd, buf, sizeof buf);
  assert (n == (ssize_t) strlen (want) && memcmp (buf, want, n) == 0);
  close (fd);
}

static void
write_file (const char *p, const char *s, unsigned flags)
{
  struct atomic_file af;

  assert (atomic_file_open (&af, p, flags) == 0);
  assert (write (af.fd, s, strlen (s)) == (ssize_t) strlen (s));
  assert (atomic_file_commit (&af) == 0);
  assert (af.fd == -1 && af.path == NULL && af.tmp == NULL);
}

static mode_t
mode_of (const char *p)
{
  struct stat st;

  assert (stat (p, &st) == 0);
  return st.st_mode & 07777;
}

/* A child that opens a temporary for path, writes, and is killed
 * before commit.  Returns its (now dead) pid.
 */
static pid_t
killed_writer (unsigned flags)
{
  int sync[2], status;
  pid_t pid;
  char c;

  assert (pipe (sync) == 0);
  pid = fork ();
  assert (pid >= 0);
  if (pid == 0) {
    struct atomic_file af;

    if (atomic_file_open (&af, path, flags) == -1 ||
        write (af.fd, "partial", 7) != 7 || write (sync[1], "x", 1) != 1)
      _exit (1);
    pause ();
    _exit (1);
  }
  close (sync[1]);
  assert (read (sync[0], &c, 1) == 1);
  close (sync[0]);
  kill (pid, SIGKILL);
  assert (waitpid (pid, &status, 0) == pid);
  assert (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  return pid;
}

int
main (void)
{
  struct atomic_file af;
  char name[4200], other[4200];
  struct stat st1, st2;
  pid_t dead;
  int fd;

  assert (mkdtemp (dir) != NULL);
  snprintf (path, sizeof path, "%s/out.map", dir);

  /* A new file: the umask's mode, the content, nothing else. */
  umask (022);
  write_file (path, "one", 0);
  check_content (path, "one");
  assert (mode_of (path) == 0644);
  assert (entries () == 1);

  /* Replaced: a new inode with the new content, under other umasks. */
  assert (stat (path, &st1) == 0);
  umask (077);
  write_file (path, "two", 0);
  assert (stat (path, &st2) == 0 && st2.st_ino != st1.st_ino);
  check_content (path, "two");
  assert (mode_of (path) == 0600);
  umask (002);
  write_file (path, "three", ATOMIC_FILE_NAMED);
  check_content (path, "three");
  assert (mode_of (path) == 0664);
  assert (entries () == 1);
  umask (022);

  /* Unnamed where the filesystem can (O_TMPFILE): no entry at all
   * until commit.  Named: the documented name.
   */
  assert (atomic_file_open (&af, path, 0) == 0);
  if (af.tmp == NULL)
    assert (entries () == 1);
  else
    printf ("test-atomic-file: no O_TMPFILE in %s\n", dir);
  atomic_file_abort (&af);
  atomic_file_abort (&af);      /* twice: nothing */
  check_content (path, "three");
  assert (entries () == 1);

  assert (atomic_file_open (&af, path, ATOMIC_FILE_NAMED) == 0);
  snprintf (name, sizeof name, "%s.tmp-vbm-%ld", path, (long) getpid ());
  assert (af.tmp && strcmp (af.tmp, name) == 0);
  {
    char *t = atomic_file_temp_name (path);

    assert (t && strcmp (t, name) == 0);
    free (t);
  }
  assert (stat (name, &st1) == 0 && (st1.st_mode & 0777) == 0644);
  assert (entries () == 2);
  /* Written through another descriptor, by path, as SQLite does. */
  fd = open (af.tmp, O_WRONLY);
  assert (fd >= 0 && write (fd, "four", 4) == 4 && close (fd) == 0);
  /* Held: a second writer of the same target in this process fails. */
  errno = 0;
  {
    struct atomic_file af2;
    assert (atomic_file_open (&af2, path, ATOMIC_FILE_NAMED) == -1);
    assert (errno == EEXIST);
  }
  assert (stat (name, &st2) == 0 && st2.st_ino == st1.st_ino);
  check_content (path, "three");
  assert (atomic_file_commit (&af) == 0);
  check_content (path, "four");
  assert (entries () == 1);

  /* A failed rename (the target is a folder with something in it):
   * an error, the temporary removed.
   */
  snprintf (other, sizeof other, "%s/sub", dir);
  assert (mkdir (other, 0755) == 0);
  snprintf (name, sizeof name, "%s/sub/x", dir);
  write_file (name, "x", 0);
  assert (atomic_file_open (&af, other, 0) == 0);
  errno = 0;
  assert (atomic_file_commit (&af) == -1);
  assert (errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST);
  assert (af.fd == -1 && af.tmp == NULL);
  assert (entries () == 2);
  assert (unlink (name) == 0 && rmdir (other) == 0);

  /* No folder, no name: errors, nothing created. */
  snprintf (name, sizeof name, "%s/nodir/x", dir);
  errno = 0;
  assert (atomic_file_open (&af, name, 0) == -1 && errno == ENOENT);
  snprintf (name, sizeof name, "%s/", dir);
  errno = 0;
  assert (atomic_file_open (&af, name, 0) == -1 && errno == EISDIR);
  assert (entries () == 1);

  /* A relative target, in the current folder. */
  assert (chdir (dir) == 0);
  write_file ("rel", "rel", 0);
  write_file ("rel", "rel2", ATOMIC_FILE_NAMED);
  check_content ("rel", "rel2");
  assert (unlink ("rel") == 0);

  /* Killed before commit: an unnamed temporary vanishes with its
   * process; a named one stays until the next open of the target.
   */
  killed_writer (0);
  check_content (path, "four");
  if (entries () != 1) {
    /* Named after all: the next open removes it. */
    printf ("test-atomic-file: no O_TMPFILE in %s\n", dir);
    assert (atomic_file_open (&af, path, 0) == 0);
    atomic_file_abort (&af);
  }
  assert (entries () == 1);
  dead = killed_writer (ATOMIC_FILE_NAMED);
  check_content (path, "four");
  snprintf (name, sizeof name, "%s.tmp-vbm-%ld", path, (long) dead);
  assert (stat (name, &st1) == 0);

  /* Look-alikes that are not ours, or not clearly dead, stay:
   * another target's, a malformed pid, a live process's, and one with
   * our pid whose lock is held.
   */
  {
    static const char *const keep[] = {
      "out.mapx.tmp-vbm-1", "out.map.tmp-vbm-12x", "out.map.tmp-vbm-0",
      "out.map.tmp-vbm-",
    };
    size_t i;

    for (i = 0; i < sizeof keep / sizeof keep[0]; ++i) {
      snprintf (other, sizeof other, "%s/%s", dir, keep[i]);
      fd = open (other, O_WRONLY | O_CREAT | O_EXCL, 0644);
      assert (fd >= 0);
      close (fd);
    }
  }
  snprintf (other, sizeof other, "%s.tmp-vbm-%ld", path, (long) getppid ());
  fd = open (other, O_WRONLY | O_CREAT | O_EXCL, 0644);
  assert (fd >= 0);
  close (fd);
  assert (entries () == 1 + 1 + 4 + 1);
  write_file (path, "five", 0);
  check_content (path, "five");
  /* The dead writer's is gone, the rest stay. */
  assert (stat (name, &st1) == -1 && errno == ENOENT);
  assert (stat (other, &st1) == 0);
  assert (entries () == 1 + 4 + 1);

  /* Our own pid, unlocked: an earlier process's, removed; locked: a
   * live writer's (another thread), kept.
   */
  snprintf (name, sizeof name, "%s.tmp-vbm-%ld", path, (long) getpid ());
  fd = open (name, O_WRONLY | O_CREAT | O_EXCL, 0644);
  assert (fd >= 0);
  assert (flock (fd, LOCK_EX) == 0);
  assert (atomic_file_open (&af, path, 0) == 0 || errno == EEXIST);
  if (af.fd >= 0)
    atomic_file_abort (&af);
  assert (stat (name, &st1) == 0);
  close (fd);
  write_file (path, "six", 0);
  assert (stat (name, &st1) == -1 && errno == ENOENT);
  check_content (path, "six");

  printf ("test-atomic-file: ok\n");
  /* Leave nothing behind. */
  {
    DIR *d = opendir (dir);
    struct dirent *e;

    while ((e = readdir (d)) != NULL)
      if (strcmp (e->d_name, ".") && strcmp (e->d_name, ".."))
        assert (unlinkat (dirfd (d), e->d_name, 0) == 0);
    closedir (d);
  }
  assert (chdir ("/") == 0 && rmdir (dir) == 0);
  return 0;
}
