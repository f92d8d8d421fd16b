/* Process management for the frontend: forking into the background,
 * the pidfile, --exit-with-parent, and signals that stop the server.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "atomic-file.h"
#include "daemon.h"
#include "full-rw.h"
#include "internal.h"

int
nbds_daemonize (struct nbds_error *err)
{
  pid_t pid;
  int fd;

  pid = fork ();
  if (pid == -1) {
    nbds_set_error (err, errno, "fork");
    return -1;
  }
  if (pid > 0)
    _exit (EXIT_SUCCESS);       /* the caller's shell gets its prompt */
  setsid ();
  /* Keep stderr for messages; stdin/stdout are not ours any more. */
  fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    dup2 (fd, STDIN_FILENO);
    dup2 (fd, STDOUT_FILENO);
    if (fd > STDERR_FILENO)
      close (fd);
  }
  return 0;
}

/* Written to a temporary file and renamed, so a reader never sees a
 * partial pid (common/atomic-file.h).
 */
int
nbds_write_pidfile (const char *path, struct nbds_error *err)
{
  struct atomic_file out;
  char pid[32];
  int n;

  n = snprintf (pid, sizeof pid, "%d\n", (int) getpid ());
  if (atomic_file_open (&out, path, 0) == -1) {
    nbds_set_error (err, errno, "pidfile: %s", path);
    return -1;
  }
  if (full_pwrite (out.fd, pid, n, 0) == -1) {
    nbds_set_error (err, errno, "pidfile: %s", path);
    atomic_file_abort (&out);
    return -1;
  }
  if (atomic_file_commit (&out) == -1) {
    nbds_set_error (err, errno, "pidfile: %s", path);
    return -1;
  }
  return 0;
}

int
nbds_exit_with_parent (struct nbds_error *err)
{
  pid_t parent = getppid ();

  if (prctl (PR_SET_PDEATHSIG, SIGTERM) == -1) {
    nbds_set_error (err, errno, "prctl PR_SET_PDEATHSIG");
    return -1;
  }
  /* The parent may have died before prctl: we were reparented. */
  if (parent == 1 || getppid () != parent)
    raise (SIGTERM);
  return 0;
}

/* Signal handlers can only reach the server through a global. */
static struct nbds_server *signal_server;
static int signal_stdio_fd = -1;

static void
quit_handler (int sig)
{
  if (signal_stdio_fd >= 0)
    shutdown (signal_stdio_fd, SHUT_RD); /* wake the -s reader */
  if (signal_server)
    nbds_server_shutdown (signal_server);
}

void
nbds_install_signals (struct nbds_server *srv, int stdio_fd)
{
  struct sigaction sa;

  signal_server = srv;
  signal_stdio_fd = stdio_fd;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = quit_handler;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGQUIT, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
  /* A client hanging up is an error return, not a death. */
  sa.sa_handler = SIG_IGN;
  sigaction (SIGPIPE, &sa, NULL);
}

void
nbds_reset_signals (void)
{
  struct sigaction sa;

  memset (&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGQUIT, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
  sigaction (SIGPIPE, &sa, NULL);
}
