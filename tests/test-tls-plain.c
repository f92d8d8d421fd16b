/* What a client gets from a server under --tls=require before (or
 * instead of) a successful TLS handshake, from a raw socket:
 *
 *   test-tls-plain SOCKET
 *
 * Run against nbdkit --tls=require (the reference) and virt-bmap-nbd:
 * both must answer alike.  The answers are the NBD protocol's: every
 * option but STARTTLS and ABORT gets NBD_REP_ERR_TLS_REQD, EXPORT_NAME
 * (which cannot carry an error) closes, and a client that drops or
 * sends garbage inside the TLS handshake costs only its connection.
 */
#include <config.h>

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test-nbd-rawclient.h"

static int failures;

/* Sends an option and returns the type of its (single) reply. */
static int64_t
option (int fd, uint32_t opt, const void *data, uint32_t len)
{
  uint32_t ropt, reply, rlen;
  char buf[256];

  if (rc_send_option (fd, opt, data, len) == -1 ||
      rc_recv_option_reply (fd, &ropt, &reply, buf, sizeof buf, &rlen) == -1)
    return -1;
  if (ropt != opt)
    return -2;
  return reply;
}

int
main (int argc, char *argv[])
{
  const char *sock;
  char go[4 + 2] = { 0 };       /* empty name, no info requests */
  char garbage[512];
  int fd;

  if (argc != 2) {
    fprintf (stderr, "usage: %s SOCKET\n", argv[0]);
    return EXIT_FAILURE;
  }
  sock = argv[1];
  memset (garbage, 'x', sizeof garbage);

  fd = rc_connect (sock);
  CHECK (rc_greeting (fd) == 0, "greeting");
  CHECK (option (fd, RC_OPT_LIST, NULL, 0) == RC_REP_ERR_TLS_REQD,
         "LIST before STARTTLS: ERR_TLS_REQD");
  CHECK (option (fd, RC_OPT_STRUCTURED_REPLY, NULL, 0) ==
         RC_REP_ERR_TLS_REQD, "STRUCTURED_REPLY: ERR_TLS_REQD");
  CHECK (option (fd, RC_OPT_INFO, go, sizeof go) == RC_REP_ERR_TLS_REQD,
         "INFO: ERR_TLS_REQD");
  CHECK (option (fd, RC_OPT_GO, go, sizeof go) == RC_REP_ERR_TLS_REQD,
         "GO: ERR_TLS_REQD");
  CHECK (option (fd, 99, NULL, 0) == RC_REP_ERR_TLS_REQD,
         "unknown option: ERR_TLS_REQD");
  CHECK (option (fd, RC_OPT_STARTTLS, "abcd", 4) == RC_REP_ERR_INVALID,
         "STARTTLS with data: ERR_INVALID");
  CHECK (option (fd, RC_OPT_ABORT, NULL, 0) == RC_REP_ACK, "ABORT: ACK");
  CHECK (rc_expect_eof (fd), "ABORT: closed");
  close (fd);

  fd = rc_connect (sock);
  CHECK (rc_greeting (fd) == 0 &&
         rc_send_option (fd, RC_OPT_EXPORT_NAME, NULL, 0) == 0 &&
         rc_expect_eof (fd), "EXPORT_NAME before STARTTLS: closed");
  close (fd);

  /* Garbage where the ClientHello should be. */
  fd = rc_connect (sock);
  CHECK (rc_greeting (fd) == 0 &&
         option (fd, RC_OPT_STARTTLS, NULL, 0) == RC_REP_ACK &&
         rc_write (fd, garbage, sizeof garbage) == 0 &&
         rc_expect_eof (fd), "garbage after STARTTLS: closed");
  close (fd);

  /* Bytes pipelined behind STARTTLS, before any answer: never taken
   * as TLS (we close at once, nbdkit after its ACK: closed either way).
   */
  fd = rc_connect (sock);
  {
    struct {
      uint64_t magic;
      uint32_t option, len;
      char tail[64];
    } __attribute__ ((packed)) m;

    m.magic = htobe64 (UINT64_C (0x49484156454F5054));
    m.option = htobe32 (RC_OPT_STARTTLS);
    m.len = 0;
    memset (m.tail, 'z', sizeof m.tail);
    CHECK (rc_greeting (fd) == 0 && rc_write (fd, &m, sizeof m) == 0 &&
           rc_expect_eof (fd), "data pipelined after STARTTLS: closed");
  }
  close (fd);

  /* A client that drops in the middle of the TLS handshake. */
  fd = rc_connect (sock);
  CHECK (rc_greeting (fd) == 0 &&
         option (fd, RC_OPT_STARTTLS, NULL, 0) == RC_REP_ACK,
         "STARTTLS: ACK");
  CHECK (rc_write (fd, "\x16\x03\x01\x00", 4) == 0, "half a record");
  close (fd);

  /* And the server still answers the next client. */
  fd = rc_connect (sock);
  CHECK (rc_greeting (fd) == 0 &&
         option (fd, RC_OPT_LIST, NULL, 0) == RC_REP_ERR_TLS_REQD,
         "next client: served");
  close (fd);

  return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
