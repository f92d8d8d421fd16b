/* Listening sockets: Unix, TCP, vsock, and systemd socket activation. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/vm_sockets.h>

#include "internal.h"

#define BACKLOG SOMAXCONN

int
nbds_listen_unix (const char *path, struct nbds_error *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd;

  if (strlen (path) >= sizeof addr.sun_path) {
    nbds_set_error (err, ENAMETOOLONG, "%s", path);
    return -1;
  }
  strcpy (addr.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd == -1) {
    nbds_set_error (err, errno, "socket");
    return -1;
  }
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) == -1) {
    nbds_set_error (err, errno, "bind: %s", path);
    close (fd);
    return -1;
  }
  if (listen (fd, BACKLOG) == -1) {
    nbds_set_error (err, errno, "listen: %s", path);
    close (fd);
    unlink (path);
    return -1;
  }
  return fd;
}

static void
set_port (struct sockaddr *sa, unsigned port)
{
  if (sa->sa_family == AF_INET)
    ((struct sockaddr_in *) sa)->sin_port = htons (port);
  else if (sa->sa_family == AF_INET6)
    ((struct sockaddr_in6 *) sa)->sin6_port = htons (port);
}

static unsigned
get_port (int fd)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;

  if (getsockname (fd, (struct sockaddr *) &ss, &len) == -1)
    return 0;
  if (ss.ss_family == AF_INET)
    return ntohs (((struct sockaddr_in *) &ss)->sin_port);
  if (ss.ss_family == AF_INET6)
    return ntohs (((struct sockaddr_in6 *) &ss)->sin6_port);
  return 0;
}

int
nbds_listen_tcp (const char *addr, const char *port, int *fds, size_t max,
                 size_t *n, unsigned *port_out, struct nbds_error *err)
{
  struct addrinfo hints = {
    .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
    .ai_family = AF_UNSPEC,
    .ai_socktype = SOCK_STREAM,
  };
  struct addrinfo *res, *ai;
  unsigned chosen = 0;
  int r, last_errno = 0;

  *n = 0;
  /* Localhost unless told otherwise; "*" means every address. */
  if (addr == NULL)
    addr = "localhost";
  else if (strcmp (addr, "*") == 0 || addr[0] == '\0')
    addr = NULL;
  r = getaddrinfo (addr, port, &hints, &res);
  if (r != 0) {
    nbds_set_error (err, 0, "%s:%s: %s", addr ? addr : "*", port,
                    gai_strerror (r));
    return -1;
  }
  for (ai = res; ai && *n < max; ai = ai->ai_next) {
    int fd, one = 1;

    fd = socket (ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                 ai->ai_protocol);
    if (fd == -1) {
      last_errno = errno;
      continue;
    }
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6)
      setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    /* Port 0: the first socket picks the port, the others share it. */
    if (chosen)
      set_port (ai->ai_addr, chosen);
    if (bind (fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
        listen (fd, BACKLOG) == -1) {
      last_errno = errno;
      close (fd);
      continue;
    }
    if (!chosen)
      chosen = get_port (fd);
    fds[(*n)++] = fd;
  }
  freeaddrinfo (res);
  if (*n == 0) {
    nbds_set_error (err, last_errno, "cannot listen on %s port %s",
                    addr ? addr : "*", port);
    return -1;
  }
  if (port_out)
    *port_out = chosen;
  return 0;
}

int
nbds_listen_vsock (unsigned port, struct nbds_error *err)
{
  struct sockaddr_vm addr = {
    .svm_family = AF_VSOCK,
    .svm_cid = VMADDR_CID_ANY,
    .svm_port = port,
  };
  int fd;

  fd = socket (AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd == -1) {
    nbds_set_error (err, errno, "vsock socket");
    return -1;
  }
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) == -1 ||
      listen (fd, BACKLOG) == -1) {
    nbds_set_error (err, errno, "vsock port %u", port);
    close (fd);
    return -1;
  }
  return fd;
}

/* The sd_listen_fds(3) protocol: fds from 3 on, for our pid only. */
int
nbds_socket_activation (struct nbds_error *err)
{
  const char *s;
  char *end;
  long pid, nfds;
  int i;

  s = getenv ("LISTEN_PID");
  if (s == NULL)
    return 0;
  errno = 0;
  pid = strtol (s, &end, 10);
  if (errno || *end || pid != (long) getpid ())
    return 0;
  s = getenv ("LISTEN_FDS");
  if (s == NULL)
    return 0;
  errno = 0;
  nfds = strtol (s, &end, 10);
  if (errno || *end || nfds < 1 || nfds > 1024) {
    nbds_set_error (err, EINVAL, "bad LISTEN_FDS '%s'", s);
    return -1;
  }
  /* Not for our children (the --run command). */
  unsetenv ("LISTEN_PID");
  unsetenv ("LISTEN_FDS");
  unsetenv ("LISTEN_FDNAMES");
  for (i = 0; i < nfds; ++i) {
    if (fcntl (3 + i, F_SETFD, FD_CLOEXEC) == -1) {
      nbds_set_error (err, errno, "LISTEN_FDS: fd %d", 3 + i);
      return -1;
    }
  }
  return nfds;
}
