/* The raw NBD test client (see test-nbd-rawclient.h). */
#include <config.h>

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "test-nbd-rawclient.h"

#define TIMEOUT_SECONDS 30

int
rc_connect (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  struct timeval tv = { .tv_sec = TIMEOUT_SECONDS };
  int fd;

  if (strlen (path) >= sizeof addr.sun_path) {
    fprintf (stderr, "socket path too long: %s\n", path);
    exit (EXIT_FAILURE);
  }
  strcpy (addr.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd == -1 || connect (fd, (struct sockaddr *) &addr, sizeof addr) == -1) {
    perror (path);
    exit (EXIT_FAILURE);
  }
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

int
rc_read (int fd, void *buf, size_t len)
{
  char *p = buf;

  while (len > 0) {
    ssize_t r = recv (fd, p, len, 0);

    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0) {
      if (r == 0)
        errno = ECONNRESET;
      return -1;
    }
    p += r;
    len -= r;
  }
  return 0;
}

int
rc_write (int fd, const void *buf, size_t len)
{
  const char *p = buf;

  while (len > 0) {
    ssize_t r = send (fd, p, len, MSG_NOSIGNAL);

    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1)
      return -1;
    p += r;
    len -= r;
  }
  return 0;
}

bool
rc_expect_eof (int fd)
{
  char buf[4096];

  /* Anything still queued may arrive first; then EOF or a reset. */
  for (;;) {
    ssize_t r = recv (fd, buf, sizeof buf, 0);

    if (r == 0)
      return true;
    if (r == -1)
      return errno == ECONNRESET || errno == EPIPE;
  }
}

int
rc_greeting (int fd)
{
  struct {
    uint64_t magic, version;
    uint16_t gflags;
  } __attribute__ ((packed)) g;
  uint32_t cflags = htobe32 (3);

  if (rc_read (fd, &g, sizeof g) == -1)
    return -1;
  if (be64toh (g.magic) != 0x4e42444d41474943 ||
      be64toh (g.version) != 0x49484156454f5054 ||
      !(be16toh (g.gflags) & 1)) {
    fprintf (stderr, "bad greeting\n");
    errno = EPROTO;
    return -1;
  }
  return rc_write (fd, &cflags, sizeof cflags);
}

int
rc_send_option (int fd, uint32_t option, const void *data, uint32_t len)
{
  struct {
    uint64_t magic;
    uint32_t option, len;
  } __attribute__ ((packed)) h;

  h.magic = htobe64 (0x49484156454f5054);
  h.option = htobe32 (option);
  h.len = htobe32 (len);
  if (rc_write (fd, &h, sizeof h) == -1)
    return -1;
  return len ? rc_write (fd, data, len) : 0;
}

int
rc_recv_option_reply (int fd, uint32_t *option, uint32_t *reply,
                      void *buf, size_t bufsize, uint32_t *len)
{
  struct {
    uint64_t magic;
    uint32_t option, reply, len;
  } __attribute__ ((packed)) h;
  uint32_t n, keep;
  char skip[4096];

  if (rc_read (fd, &h, sizeof h) == -1)
    return -1;
  if (be64toh (h.magic) != 0x3e889045565a9) {
    fprintf (stderr, "bad option reply magic\n");
    errno = EPROTO;
    return -1;
  }
  *option = be32toh (h.option);
  *reply = be32toh (h.reply);
  n = be32toh (h.len);
  if (len)
    *len = n;
  keep = n < bufsize ? n : bufsize;
  if (keep && rc_read (fd, buf, keep) == -1)
    return -1;
  for (n -= keep; n > 0; ) {
    uint32_t k = n < sizeof skip ? n : sizeof skip;

    if (rc_read (fd, skip, k) == -1)
      return -1;
    n -= k;
  }
  return 0;
}

int64_t
rc_go (int fd, const char *name, uint32_t namelen, uint64_t *size,
       uint16_t *eflags)
{
  char *data = malloc (namelen + 6);
  uint32_t be_len = htobe32 (namelen);
  uint16_t zero = 0;

  if (data == NULL)
    return -1;
  memcpy (data, &be_len, 4);
  memcpy (data + 4, name, namelen);
  memcpy (data + 4 + namelen, &zero, 2);
  if (rc_send_option (fd, RC_OPT_GO, data, namelen + 6) == -1) {
    free (data);
    return -1;
  }
  free (data);

  for (;;) {
    unsigned char buf[64];
    uint32_t option, reply, len;

    if (rc_recv_option_reply (fd, &option, &reply, buf, sizeof buf, &len) == -1)
      return -1;
    if (option != RC_OPT_GO) {
      fprintf (stderr, "reply for option %u, expected GO\n", option);
      return -1;
    }
    if (reply == RC_REP_INFO && len >= 12 && buf[0] == 0 && buf[1] == 0) {
      uint64_t s;
      uint16_t f;

      memcpy (&s, buf + 2, 8);
      memcpy (&f, buf + 10, 2);
      if (size)
        *size = be64toh (s);
      if (eflags)
        *eflags = be16toh (f);
    }
    else if (reply != RC_REP_INFO)
      return reply;
  }
}

static int
set_meta_base_allocation (int fd, const char *name)
{
  const char *q = "base:allocation";
  const uint32_t nlen = strlen (name), qlen = strlen (q);
  char data[512];
  uint32_t v, option, reply;
  size_t n = 0;

  v = htobe32 (nlen); memcpy (data + n, &v, 4); n += 4;
  memcpy (data + n, name, nlen); n += nlen;
  v = htobe32 (1); memcpy (data + n, &v, 4); n += 4;
  v = htobe32 (qlen); memcpy (data + n, &v, 4); n += 4;
  memcpy (data + n, q, qlen); n += qlen;
  if (rc_send_option (fd, RC_OPT_SET_META_CONTEXT, data, n) == -1)
    return -1;
  if (rc_recv_option_reply (fd, &option, &reply, NULL, 0, NULL) == -1 ||
      reply != RC_REP_META_CONTEXT)
    return -1;
  if (rc_recv_option_reply (fd, &option, &reply, NULL, 0, NULL) == -1 ||
      reply != RC_REP_ACK)
    return -1;
  return 0;
}

int
rc_open (const char *path, const char *name, bool structured,
         bool base_allocation, uint64_t *size, uint16_t *eflags)
{
  int fd = rc_connect (path);
  uint32_t option, reply;

  if (rc_greeting (fd) == -1)
    goto fail;
  if (structured) {
    if (rc_send_option (fd, RC_OPT_STRUCTURED_REPLY, NULL, 0) == -1 ||
        rc_recv_option_reply (fd, &option, &reply, NULL, 0, NULL) == -1 ||
        reply != RC_REP_ACK)
      goto fail;
    if (base_allocation && set_meta_base_allocation (fd, name) == -1)
      goto fail;
  }
  if (rc_go (fd, name, strlen (name), size, eflags) != RC_REP_ACK)
    goto fail;
  return fd;

 fail:
  fprintf (stderr, "rc_open: handshake failed\n");
  exit (EXIT_FAILURE);
}

int
rc_send_request (int fd, uint16_t flags, uint16_t type, uint64_t cookie,
                 uint64_t offset, uint32_t count)
{
  struct {
    uint32_t magic;
    uint16_t flags, type;
    uint64_t cookie, offset;
    uint32_t count;
  } __attribute__ ((packed)) r;

  r.magic = htobe32 (0x25609513);
  r.flags = htobe16 (flags);
  r.type = htobe16 (type);
  r.cookie = htobe64 (cookie);
  r.offset = htobe64 (offset);
  r.count = htobe32 (count);
  return rc_write (fd, &r, sizeof r);
}

int
rc_recv_simple (int fd, uint64_t *cookie)
{
  struct {
    uint32_t magic, error;
    uint64_t cookie;
  } __attribute__ ((packed)) r;

  if (rc_read (fd, &r, sizeof r) == -1)
    return -1;
  if (be32toh (r.magic) != 0x67446698) {
    fprintf (stderr, "bad simple reply magic 0x%x\n", be32toh (r.magic));
    errno = EPROTO;
    return -1;
  }
  if (cookie)
    *cookie = be64toh (r.cookie);
  return be32toh (r.error);
}

int
rc_recv_chunk (int fd, uint16_t *flags, uint16_t *type, uint64_t *cookie,
               uint32_t *length)
{
  struct {
    uint32_t magic;
    uint16_t flags, type;
    uint64_t cookie;
    uint32_t length;
  } __attribute__ ((packed)) r;

  if (rc_read (fd, &r, sizeof r) == -1)
    return -1;
  if (be32toh (r.magic) != 0x668e33ef) {
    fprintf (stderr, "bad structured reply magic 0x%x\n", be32toh (r.magic));
    errno = EPROTO;
    return -1;
  }
  *flags = be16toh (r.flags);
  *type = be16toh (r.type);
  *cookie = be64toh (r.cookie);
  *length = be32toh (r.length);
  return 0;
}

int
rc_simple_command (int fd, uint16_t flags, uint16_t type, uint64_t offset,
                   uint32_t count)
{
  uint64_t cookie;
  int r;

  if (rc_send_request (fd, flags, type, 0x1234, offset, count) == -1)
    return -1;
  r = rc_recv_simple (fd, &cookie);
  if (r >= 0 && cookie != 0x1234) {
    fprintf (stderr, "wrong cookie in reply\n");
    return -1;
  }
  return r;
}
