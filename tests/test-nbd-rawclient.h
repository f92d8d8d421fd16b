/* A deliberately naive NBD client over a raw socket, for the tests
 * that must send what real clients never would.  Constants are
 * spelled out here from the NBD spec, independently of the server's
 * own header.  Every socket has a receive timeout, so a server that
 * hangs fails the test instead of blocking it.
 */
#ifndef TEST_NBD_RAWCLIENT_H
#define TEST_NBD_RAWCLIENT_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

/* Prints ok:/FAIL: and the message; counts failures in the test's own
 * static int failures.
 */
#define CHECK(cond, ...)                                \
  do {                                                  \
    if (cond)                                           \
      printf ("ok: ");                                  \
    else {                                              \
      printf ("FAIL: ");                                \
      failures++;                                       \
    }                                                   \
    printf (__VA_ARGS__);                               \
    printf ("\n");                                      \
    fflush (stdout);                                    \
  } while (0)

#define RC_OPT_EXPORT_NAME       1
#define RC_OPT_ABORT             2
#define RC_OPT_LIST              3
#define RC_OPT_STARTTLS          5
#define RC_OPT_INFO              6
#define RC_OPT_GO                7
#define RC_OPT_STRUCTURED_REPLY  8
#define RC_OPT_LIST_META_CONTEXT 9
#define RC_OPT_SET_META_CONTEXT  10

#define RC_REP_ACK          1
#define RC_REP_SERVER       2
#define RC_REP_INFO         3
#define RC_REP_META_CONTEXT 4
#define RC_REP_ERR_UNSUP    0x80000001
#define RC_REP_ERR_POLICY   0x80000002
#define RC_REP_ERR_INVALID  0x80000003
#define RC_REP_ERR_TLS_REQD 0x80000005
#define RC_REP_ERR_UNKNOWN  0x80000006
#define RC_REP_ERR_TOO_BIG  0x80000009

#define RC_CMD_READ         0
#define RC_CMD_WRITE        1
#define RC_CMD_DISC         2
#define RC_CMD_FLUSH        3
#define RC_CMD_TRIM         4
#define RC_CMD_CACHE        5
#define RC_CMD_WRITE_ZEROES 6
#define RC_CMD_BLOCK_STATUS 7

#define RC_FLAG_FUA         1
#define RC_FLAG_NO_HOLE     2
#define RC_FLAG_DF          4
#define RC_FLAG_REQ_ONE     8

#define RC_FLAG_READ_ONLY      (1 << 1)
#define RC_FLAG_CAN_MULTI_CONN (1 << 8)

#define RC_REPLY_TYPE_OFFSET_DATA  1
#define RC_REPLY_TYPE_BLOCK_STATUS 5
#define RC_REPLY_TYPE_ERROR        32769

#define RC_EPERM   1
#define RC_EIO     5
#define RC_ENOMEM  12
#define RC_EINVAL  22
#define RC_ENOSPC  28

/* Connects to a Unix socket; exits the test on failure. */
extern int rc_connect (const char *path);
/* 0 on success, -1 on error or EOF (errno set). */
extern int rc_read (int fd, void *buf, size_t len);
extern int rc_write (int fd, const void *buf, size_t len);
/* True if the server closes the connection within the timeout. */
extern bool rc_expect_eof (int fd);

/* Reads the greeting and sends client flags (FIXED_NEWSTYLE|NO_ZEROES). */
extern int rc_greeting (int fd);
extern int rc_send_option (int fd, uint32_t option, const void *data,
                           uint32_t len);
/* Reads one option reply header; the payload (if any) goes into buf
 * up to bufsize bytes and *len gets its full length (the rest is
 * skipped).
 */
extern int rc_recv_option_reply (int fd, uint32_t *option, uint32_t *reply,
                                 void *buf, size_t bufsize, uint32_t *len);
/* Sends GO for name and reads the replies: returns the final reply
 * type (RC_REP_ACK or an error), -1 on I/O error.
 */
extern int64_t rc_go (int fd, const char *name, uint32_t namelen,
                      uint64_t *size, uint16_t *eflags);
/* Greeting, optional structured replies and base:allocation, GO. */
extern int rc_open (const char *path, const char *name, bool structured,
                    bool base_allocation, uint64_t *size, uint16_t *eflags);

extern int rc_send_request (int fd, uint16_t flags, uint16_t type,
                            uint64_t cookie, uint64_t offset, uint32_t count);
/* A simple reply: returns its error (>= 0) and cookie, -1 on I/O error. */
extern int rc_recv_simple (int fd, uint64_t *cookie);
/* One structured reply chunk header; returns 0 or -1. */
extern int rc_recv_chunk (int fd, uint16_t *flags, uint16_t *type,
                          uint64_t *cookie, uint32_t *length);

/* Request + simple reply without data: the error, or -1. */
extern int rc_simple_command (int fd, uint16_t flags, uint16_t type,
                              uint64_t offset, uint32_t count);

#endif /* TEST_NBD_RAWCLIENT_H */
