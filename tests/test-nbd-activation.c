/* systemd socket activation, done the way systemd does it: we create
 * the listening socket, pass it as fd 3 with LISTEN_FDS=1 and
 * LISTEN_PID=<the server's pid>, and run the server with no listening
 * options.  Then we connect, read, and stop it with SIGTERM.
 *
 *   test-nbd-activation SERVER IMAGE SOCKET EXPECTED
 *
 * EXPECTED is the text the image starts with.
 */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "test-nbd-rawclient.h"

static int
listen_unix (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd;

  if (strlen (path) >= sizeof addr.sun_path) {
    fprintf (stderr, "socket path too long\n");
    exit (EXIT_FAILURE);
  }
  strcpy (addr.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM, 0);
  if (fd == -1 || bind (fd, (struct sockaddr *) &addr, sizeof addr) == -1 ||
      listen (fd, 8) == -1) {
    perror (path);
    exit (EXIT_FAILURE);
  }
  return fd;
}

int
main (int argc, char *argv[])
{
  const char *server, *image, *path, *expected;
  char buf[256], pidstr[32];
  size_t len;
  uint64_t size = 0, cookie;
  uint16_t eflags = 0;
  pid_t pid;
  int lfd, fd, status, i;

  if (argc != 5) {
    fprintf (stderr, "usage: %s SERVER IMAGE SOCKET EXPECTED\n", argv[0]);
    return EXIT_FAILURE;
  }
  server = argv[1];
  image = argv[2];
  path = argv[3];
  expected = argv[4];
  len = strlen (expected);
  if (len == 0 || len > sizeof buf) {
    fprintf (stderr, "bad EXPECTED\n");
    return EXIT_FAILURE;
  }

  lfd = listen_unix (path);
  pid = fork ();
  if (pid == -1) {
    perror ("fork");
    return EXIT_FAILURE;
  }
  if (pid == 0) {
    if (lfd != 3) {
      if (dup2 (lfd, 3) == -1)
        _exit (126);
      close (lfd);
    }
    snprintf (pidstr, sizeof pidstr, "%d", (int) getpid ());
    setenv ("LISTEN_PID", pidstr, 1);
    setenv ("LISTEN_FDS", "1", 1);
    execl (server, server, "-r", image, (char *) NULL);
    perror (server);
    _exit (127);
  }
  close (lfd);

  /* The socket already listens: no need to wait for the server.  Two
   * connections in a row, as libguestfs does.
   */
  for (i = 0; i < 2; ++i) {
    fd = rc_open (path, "", false, false, &size, &eflags);
    if (!(eflags & RC_FLAG_READ_ONLY)) {
      fprintf (stderr, "export is not read-only\n");
      return EXIT_FAILURE;
    }
    if (rc_send_request (fd, 0, RC_CMD_READ, 1, 0, len) == -1 ||
        rc_recv_simple (fd, &cookie) != 0 || rc_read (fd, buf, len) == -1) {
      perror ("read");
      return EXIT_FAILURE;
    }
    if (memcmp (buf, expected, len) != 0) {
      fprintf (stderr, "read the wrong data\n");
      return EXIT_FAILURE;
    }
    close (fd);
  }
  printf ("read '%s' from a socket-activated server (size %llu)\n",
          expected, (unsigned long long) size);

  /* The server stayed in the foreground, as our child; SIGTERM stops
   * it cleanly.
   */
  if (kill (pid, SIGTERM) == -1 || waitpid (pid, &status, 0) != pid) {
    perror ("kill/waitpid");
    return EXIT_FAILURE;
  }
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
    fprintf (stderr, "server exit status 0x%x\n", status);
    return EXIT_FAILURE;
  }
  /* The socket was systemd's (ours), not the server's to remove. */
  if (access (path, F_OK) == -1) {
    fprintf (stderr, "the server removed a socket it did not create\n");
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
