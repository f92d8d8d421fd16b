/* Hostile and malformed input for an NBD server, and its error table.
 *
 *   test-nbd-hostile make-image FILE   writes the 128 MiB test image
 *   test-nbd-hostile ro|rw SOCKET      runs the checks
 *
 * The image holds a pattern: each 8-byte aligned word is its own
 * offset, big-endian, so any read can be verified.  The same checks
 * run against nbdkit (the reference) and virt-bmap-nbd: both must
 * answer alike.  A connection opened first and used last shows that
 * one bad client does not disturb another.
 */
#include <config.h>

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "test-nbd-rawclient.h"

#define IMAGE_SIZE (128 * 1024 * 1024)
#define MiB (1024 * 1024)

static const char *sock;
static int failures;

static unsigned char
pattern_byte (uint64_t offset)
{
  return ((offset & ~UINT64_C (7)) >> (8 * (7 - offset % 8))) & 0xff;
}

static int
make_image (const char *path)
{
  FILE *fp = fopen (path, "w");
  uint64_t buf[8192];
  uint64_t off;
  size_t i;

  if (fp == NULL) {
    perror (path);
    return EXIT_FAILURE;
  }
  for (off = 0; off < IMAGE_SIZE; off += sizeof buf) {
    for (i = 0; i < sizeof buf / 8; ++i)
      buf[i] = htobe64 (off + 8 * i);
    if (fwrite (buf, sizeof buf, 1, fp) != 1) {
      perror (path);
      return EXIT_FAILURE;
    }
  }
  if (fclose (fp) == EOF) {
    perror (path);
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}

static bool
check_pattern (const unsigned char *buf, uint64_t offset, size_t len)
{
  size_t i;

  for (i = 0; i < len; ++i)
    if (buf[i] != pattern_byte (offset + i))
      return false;
  return true;
}

/* A READ with a simple reply whose data must match the pattern. */
static bool
read_ok (int fd, uint64_t offset, uint32_t count)
{
  unsigned char *buf = malloc (count);
  uint64_t cookie;
  bool ok;

  if (buf == NULL)
    return false;
  ok = rc_send_request (fd, 0, RC_CMD_READ, 7, offset, count) == 0 &&
    rc_recv_simple (fd, &cookie) == 0 && cookie == 7 &&
    rc_read (fd, buf, count) == 0 && check_pattern (buf, offset, count);
  free (buf);
  return ok;
}

/* A request whose payload the server must read (and maybe drop). */
static int
write_command (int fd, uint16_t flags, uint64_t offset, uint32_t count,
               unsigned char fill)
{
  unsigned char *buf = malloc (count ? count : 1);
  uint64_t cookie;
  int r;

  if (buf == NULL)
    return -1;
  memset (buf, fill, count);
  if (rc_send_request (fd, flags, RC_CMD_WRITE, 9, offset, count) == -1 ||
      rc_write (fd, buf, count) == -1) {
    free (buf);
    return -1;
  }
  free (buf);
  r = rc_recv_simple (fd, &cookie);
  return r >= 0 && cookie != 9 ? -1 : r;
}

static void
test_read_errors (int fd, uint64_t size)
{
  CHECK (rc_simple_command (fd, 0, RC_CMD_READ, size - 512, 1024) == RC_EINVAL,
         "READ past the end: EINVAL");
  CHECK (rc_simple_command (fd, 0, RC_CMD_READ, size, 1) == RC_EINVAL,
         "READ at the end: EINVAL");
  CHECK (rc_simple_command (fd, 0, RC_CMD_READ, UINT64_MAX - 10, 100)
         == RC_EINVAL, "READ with offset+count overflowing: EINVAL");
  CHECK (rc_simple_command (fd, 0, RC_CMD_READ, 0, 0) == RC_EINVAL,
         "READ of length 0: EINVAL");
  CHECK (rc_simple_command (fd, 0, RC_CMD_READ, 0, 64 * MiB + 1) == RC_ENOMEM,
         "READ over 64 MiB: ENOMEM");
  CHECK (read_ok (fd, 0, 64 * MiB), "READ of 64 MiB served");
  CHECK (read_ok (fd, size - 3, 3), "READ of the last bytes");
  CHECK (rc_simple_command (fd, 0, 42, 0, 512) == RC_EINVAL,
         "unknown command: EINVAL");
  CHECK (rc_simple_command (fd, 0x8000, RC_CMD_READ, 0, 512) == RC_EINVAL,
         "unknown flag: EINVAL");
  CHECK (rc_simple_command (fd, RC_FLAG_NO_HOLE, RC_CMD_READ, 0, 512)
         == RC_EINVAL, "NO_HOLE on READ: EINVAL");
  CHECK (rc_simple_command (fd, RC_FLAG_DF, RC_CMD_READ, 0, 512) == RC_EINVAL,
         "DF without structured replies: EINVAL");
  CHECK (rc_simple_command (fd, 0, RC_CMD_FLUSH, 1, 0) == RC_EINVAL,
         "FLUSH with an offset: EINVAL");
  CHECK (rc_simple_command (fd, 0, RC_CMD_FLUSH, 0, 0) == 0, "FLUSH");
  CHECK (rc_simple_command (fd, 0, RC_CMD_CACHE, 0, 4096) == 0, "CACHE");
  CHECK (rc_simple_command (fd, 0, RC_CMD_BLOCK_STATUS, 0, 4096) == RC_EINVAL,
         "BLOCK_STATUS without a context: EINVAL");
  CHECK (read_ok (fd, 12345, 4321), "still serving after the errors");
}

/* Many requests in flight: every reply once, data right. */
static void
test_pipeline (int fd)
{
  enum { N = 64, LEN = 4096 };
  unsigned char seen[N] = { 0 };
  unsigned char buf[LEN];
  bool ok = true;
  int i;

  for (i = 0; i < N; ++i)
    if (rc_send_request (fd, 0, RC_CMD_READ, 1000 + i,
                         (uint64_t) i * 1000003, LEN) == -1)
      ok = false;
  for (i = 0; ok && i < N; ++i) {
    uint64_t cookie;

    if (rc_recv_simple (fd, &cookie) != 0 || cookie < 1000 ||
        cookie >= 1000 + N || seen[cookie - 1000]++ ||
        rc_read (fd, buf, LEN) == -1 ||
        !check_pattern (buf, (cookie - 1000) * 1000003, LEN))
      ok = false;
  }
  CHECK (ok, "%d pipelined READs answered once each, data correct", N);
}

static void
test_structured (uint64_t size)
{
  int fd = rc_open (sock, "", true, true, NULL, NULL);
  uint16_t flags, type;
  uint64_t cookie, off;
  uint32_t len, error, desc[2];
  unsigned char buf[4096];

  CHECK (rc_send_request (fd, RC_FLAG_DF, RC_CMD_READ, 5, 4096, 4096) == 0 &&
         rc_recv_chunk (fd, &flags, &type, &cookie, &len) == 0 &&
         type == RC_REPLY_TYPE_OFFSET_DATA && (flags & 1) && cookie == 5 &&
         len == 8 + 4096 && rc_read (fd, &off, 8) == 0 &&
         be64toh (off) == 4096 && rc_read (fd, buf, 4096) == 0 &&
         check_pattern (buf, 4096, 4096),
         "structured READ with DF: one data chunk, done");
  CHECK (rc_send_request (fd, 0, RC_CMD_READ, 6, size, 1) == 0 &&
         rc_recv_chunk (fd, &flags, &type, &cookie, &len) == 0 &&
         type == RC_REPLY_TYPE_ERROR && (flags & 1) && cookie == 6 &&
         len >= 6 && rc_read (fd, buf, len) == 0 &&
         (memcpy (&error, buf, 4), be32toh (error) == RC_EINVAL),
         "structured READ past the end: error chunk EINVAL");
  CHECK (rc_send_request (fd, RC_FLAG_REQ_ONE, RC_CMD_BLOCK_STATUS, 7, 0,
                          MiB) == 0 &&
         rc_recv_chunk (fd, &flags, &type, &cookie, &len) == 0 &&
         type == RC_REPLY_TYPE_BLOCK_STATUS && (flags & 1) && cookie == 7 &&
         len == 12 && rc_read (fd, buf, 4) == 0 &&
         rc_read (fd, desc, 8) == 0 && be32toh (desc[0]) > 0 &&
         be32toh (desc[0]) <= MiB,
         "BLOCK_STATUS with REQ_ONE: exactly one extent");
  CHECK (rc_send_request (fd, 0, RC_CMD_BLOCK_STATUS, 8, 0, 0) == 0 &&
         rc_recv_chunk (fd, &flags, &type, &cookie, &len) == 0 &&
         type == RC_REPLY_TYPE_ERROR && cookie == 8 && len >= 6 &&
         rc_read (fd, buf, len) == 0 &&
         (memcpy (&error, buf, 4), be32toh (error) == RC_EINVAL),
         "BLOCK_STATUS of length 0: EINVAL");
  close (fd);
}

static void
test_bad_magic (void)
{
  int fd = rc_open (sock, "", false, false, NULL, NULL);
  char junk[28];

  memset (junk, 0x5a, sizeof junk);
  CHECK (rc_write (fd, junk, sizeof junk) == 0 && rc_expect_eof (fd),
         "bad request magic: disconnected");
  close (fd);
}

/* Hang-ups at awkward moments; the server must carry on. */
static void
test_truncated (void)
{
  char junk[10] = { 0x25, 0x60, 0x95, 0x13, 0, 0, 0, 0, 0, 0 };
  int fd;

  fd = rc_connect (sock);
  close (fd);                   /* before the greeting is read */

  fd = rc_connect (sock);
  rc_greeting (fd);
  rc_write (fd, "IHAVEOPT", 8); /* half an option header */
  close (fd);

  fd = rc_open (sock, "", false, false, NULL, NULL);
  rc_write (fd, junk, sizeof junk); /* a third of a request */
  close (fd);

  fd = rc_open (sock, "", false, false, NULL, NULL);
  rc_send_request (fd, 0, RC_CMD_READ, 1, 0, 32 * MiB);
  close (fd);                   /* dies without reading the reply */

  fd = rc_open (sock, "", true, false, NULL, NULL);
  rc_send_request (fd, 0, RC_CMD_READ, 1, 0, 32 * MiB);
  rc_send_request (fd, 0, RC_CMD_READ, 2, 32 * MiB, 32 * MiB);
  shutdown (fd, SHUT_RDWR);
  close (fd);

  fd = rc_open (sock, "", false, false, NULL, NULL);
  CHECK (read_ok (fd, 777, 7777), "serving after truncated packets and "
         "clients dying mid-request");
  close (fd);
}

static uint32_t
option_reply (int fd, uint32_t *option)
{
  uint32_t reply, opt;

  if (rc_recv_option_reply (fd, option ? option : &opt, &reply,
                            NULL, 0, NULL) == -1)
    return 0;
  return reply;
}

static void
test_many_options (void)
{
  enum { N = 1000 };
  static char buf[N * 16];
  int fd = rc_connect (sock);
  int i, replies = 0;

  rc_greeting (fd);
  for (i = 0; i < N; ++i) {
    uint64_t magic = htobe64 (0x49484156454f5054);
    uint32_t opt = htobe32 (0x4242), len = 0;

    memcpy (buf + 16 * i, &magic, 8);
    memcpy (buf + 16 * i + 8, &opt, 4);
    memcpy (buf + 16 * i + 12, &len, 4);
  }
  rc_write (fd, buf, sizeof buf); /* may fail once the server gives up */
  while (option_reply (fd, NULL) == RC_REP_ERR_UNSUP)
    replies++;
  CHECK (replies > 0 && replies <= 32 && rc_expect_eof (fd),
         "%d options: %d answered ERR_UNSUP, then disconnected", N, replies);
  close (fd);
}

static void
test_names (void)
{
  static char name[1024 * 1024];
  uint32_t big = htobe32 (0x7fffffff);
  int fd;

  memset (name, 'a', sizeof name);
  fd = rc_connect (sock);
  rc_greeting (fd);
  CHECK (rc_go (fd, name, 4097, NULL, NULL) == RC_REP_ERR_INVALID,
         "export name of 4097 bytes: ERR_INVALID");
  CHECK (rc_go (fd, "a\0b", 3, NULL, NULL) == RC_REP_ERR_INVALID,
         "export name with NUL: ERR_INVALID");
  CHECK (rc_go (fd, "no-such-export", 14, NULL, NULL) == RC_REP_ERR_UNKNOWN,
         "unknown export: ERR_UNKNOWN");
  CHECK (rc_send_option (fd, RC_OPT_STARTTLS, NULL, 0) == 0 &&
         option_reply (fd, NULL) == RC_REP_ERR_POLICY,
         "STARTTLS: ERR_POLICY");
  CHECK (rc_send_option (fd, RC_OPT_LIST, "x", 1) == 0 &&
         option_reply (fd, NULL) == RC_REP_ERR_INVALID,
         "LIST with data: ERR_INVALID");
  CHECK (rc_send_option (fd, RC_OPT_SET_META_CONTEXT, "\0\0\0\0\0\0\0\0", 8)
         == 0 && option_reply (fd, NULL) == RC_REP_ERR_INVALID,
         "SET_META_CONTEXT before STRUCTURED_REPLY: ERR_INVALID");
  CHECK (rc_go (fd, "", 0, NULL, NULL) == RC_REP_ACK,
         "GO after refused options");
  CHECK (read_ok (fd, 4096, 512), "and it serves");
  close (fd);

  /* A name of 1 MiB: refused or disconnected, never accepted. */
  fd = rc_connect (sock);
  rc_greeting (fd);
  {
    int64_t r = rc_go (fd, name, sizeof name, NULL, NULL);

    CHECK (r == -1 || (r & 0x80000000), "export name of 1 MiB refused");
  }
  close (fd);

  /* An option announcing 2 GiB of data that never comes. */
  fd = rc_connect (sock);
  rc_greeting (fd);
  rc_write (fd, "IHAVEOPT\0\0\0\7", 12);
  rc_write (fd, &big, 4);
  CHECK (rc_expect_eof (fd), "option length of 2 GiB: disconnected");
  close (fd);

  fd = rc_connect (sock);
  rc_greeting (fd);
  CHECK (rc_send_option (fd, RC_OPT_EXPORT_NAME, "nope", 4) == 0 &&
         rc_expect_eof (fd), "EXPORT_NAME of an unknown export: disconnected");
  close (fd);

  fd = rc_connect (sock);
  rc_greeting (fd);
  CHECK (rc_write (fd, "IHAVEOPX\0\0\0\7\0\0\0\0", 16) == 0 &&
         rc_expect_eof (fd), "bad option magic: disconnected");
  close (fd);

  fd = rc_connect (sock);
  {
    char greeting[18];
    uint32_t cflags = htobe32 (0x80000001);

    CHECK (rc_read (fd, greeting, sizeof greeting) == 0 &&
           rc_write (fd, &cflags, 4) == 0 && rc_expect_eof (fd),
           "unknown client flags: disconnected");
  }
  close (fd);

  fd = rc_connect (sock);
  rc_greeting (fd);
  {
    uint32_t reply;

    rc_send_option (fd, RC_OPT_ABORT, NULL, 0);
    reply = option_reply (fd, NULL);
    CHECK ((reply == RC_REP_ACK || reply == 0) && rc_expect_eof (fd),
           "ABORT: acknowledged, disconnected");
  }
  close (fd);
}

static void
test_write_errors (int fd, uint64_t size)
{
  unsigned char buf[8192];
  uint64_t cookie;

  CHECK (write_command (fd, 0, size - 512, 1024, 1) == RC_ENOSPC,
         "WRITE past the end: ENOSPC");
  CHECK (write_command (fd, 0, 0, 64 * MiB + 1, 2) == RC_ENOMEM,
         "WRITE over 64 MiB: ENOMEM");
  CHECK (read_ok (fd, 0, 4096) && read_ok (fd, size - 4096, 4096),
         "the refused payloads were skipped and not written");
  CHECK (rc_simple_command (fd, 0, RC_CMD_WRITE_ZEROES, size, 1) == RC_ENOSPC,
         "WRITE_ZEROES past the end: ENOSPC");
  CHECK (rc_simple_command (fd, 0, RC_CMD_TRIM, size - 1, 2) == RC_EINVAL,
         "TRIM past the end: EINVAL");
  CHECK (rc_simple_command (fd, RC_FLAG_NO_HOLE, RC_CMD_TRIM, 0, 1)
         == RC_EINVAL, "NO_HOLE on TRIM: EINVAL");

  CHECK (write_command (fd, RC_FLAG_FUA, MiB + 100, 5000, 0xab) == 0,
         "WRITE with FUA");
  CHECK (rc_send_request (fd, 0, RC_CMD_READ, 3, MiB + 99, 5002) == 0 &&
         rc_recv_simple (fd, &cookie) == 0 && cookie == 3 &&
         rc_read (fd, buf, 5002) == 0 && check_pattern (buf, MiB + 99, 1) &&
         buf[1] == 0xab && buf[5000] == 0xab &&
         check_pattern (buf + 5001, MiB + 5100, 1),
         "READ sees the write, and nothing more");
  CHECK (rc_simple_command (fd, 0, RC_CMD_WRITE_ZEROES, 2 * MiB + 1, 8190)
         == 0, "WRITE_ZEROES");
  CHECK (rc_send_request (fd, 0, RC_CMD_READ, 4, 2 * MiB, 8192) == 0 &&
         rc_recv_simple (fd, &cookie) == 0 &&
         rc_read (fd, buf, 8192) == 0 && check_pattern (buf, 2 * MiB, 1) &&
         buf[1] == 0 && buf[8190] == 0 &&
         check_pattern (buf + 8191, 2 * MiB + 8191, 1),
         "READ sees the zeroes");
  CHECK (rc_simple_command (fd, 0, RC_CMD_TRIM, 3 * MiB, 4096) == 0, "TRIM");
  CHECK (rc_simple_command (fd, 0, RC_CMD_FLUSH, 0, 0) == 0, "FLUSH");

  /* Too big even to skip: the server must hang up, not wait. */
  CHECK (rc_send_request (fd, 0, RC_CMD_WRITE, 5, 0, 128 * MiB + 1) == 0 &&
         rc_expect_eof (fd), "WRITE over 128 MiB: disconnected");
}

static void
test_dying_writer (void)
{
  int fd = rc_open (sock, "", false, false, NULL, NULL);
  char half[1000] = { 0 };

  rc_send_request (fd, 0, RC_CMD_WRITE, 1, 10 * MiB, MiB);
  rc_write (fd, half, sizeof half);
  close (fd);
  fd = rc_open (sock, "", false, false, NULL, NULL);
  CHECK (read_ok (fd, 10 * MiB, 4096),
         "a client dying mid-write wrote nothing");
  close (fd);
}

int
main (int argc, char *argv[])
{
  uint64_t size = 0;
  uint16_t eflags = 0;
  bool rw;
  int bystander, fd;

  if (argc == 3 && strcmp (argv[1], "make-image") == 0)
    return make_image (argv[2]);
  if (argc != 3 || (strcmp (argv[1], "ro") && strcmp (argv[1], "rw"))) {
    fprintf (stderr, "usage: %s make-image FILE | ro|rw SOCKET\n", argv[0]);
    return EXIT_FAILURE;
  }
  rw = strcmp (argv[1], "rw") == 0;
  sock = argv[2];

  bystander = rc_open (sock, "", false, false, &size, &eflags);
  CHECK (size == IMAGE_SIZE, "export size %" PRIu64, size);
  CHECK (!(eflags & RC_FLAG_READ_ONLY) == rw, "read-only flag");
  CHECK (read_ok (bystander, 0, 4096), "first READ");

  fd = rc_open (sock, "", false, false, NULL, NULL);
  if (!rw) {
    CHECK (write_command (fd, 0, 0, 4096, 1) == RC_EPERM,
           "WRITE on a read-only export: EPERM");
    CHECK (rc_simple_command (fd, 0, RC_CMD_TRIM, 0, 4096) == RC_EPERM,
           "TRIM on a read-only export: EPERM");
    CHECK (rc_simple_command (fd, 0, RC_CMD_WRITE_ZEROES, 0, 4096)
           == RC_EPERM, "WRITE_ZEROES on a read-only export: EPERM");
    CHECK (write_command (fd, 0, 0, 64 * MiB + 1, 1) == RC_EPERM,
           "WRITE over 64 MiB on a read-only export: EPERM");
  }
  test_read_errors (fd, size);
  test_pipeline (fd);
  close (fd);

  test_structured (size);
  test_bad_magic ();
  test_truncated ();
  test_many_options ();
  test_names ();

  if (rw) {
    fd = rc_open (sock, "", false, false, NULL, NULL);
    test_write_errors (fd, size);
    close (fd);
    test_dying_writer ();
  }

  CHECK (read_ok (bystander, 99999, 65536),
         "the first connection was not disturbed");
  CHECK (rc_simple_command (bystander, 0, RC_CMD_DISC, 0, 0) == -1 &&
         errno == ECONNRESET, "DISC closes the connection");
  close (bystander);

  printf ("%d failure(s)\n", failures);
  return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
