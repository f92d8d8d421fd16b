/* The NBD wire protocol: constants and packed structures, as the NBD
 * project's doc/proto.md defines them.  All fields are big-endian on
 * the wire.
 */
#ifndef NBDS_PROTOCOL_H
#define NBDS_PROTOCOL_H

#include <stdint.h>

/* Handshake. */
#define NBD_MAGIC               UINT64_C (0x4e42444d41474943) /* "NBDMAGIC" */
#define NBD_OPT_MAGIC           UINT64_C (0x49484156454f5054) /* "IHAVEOPT" */
#define NBD_REP_MAGIC           UINT64_C (0x0003e889045565a9)

/* Handshake flags (server) and client flags. */
#define NBD_FLAG_FIXED_NEWSTYLE   (1 << 0)
#define NBD_FLAG_NO_ZEROES        (1 << 1)
#define NBD_FLAG_C_FIXED_NEWSTYLE NBD_FLAG_FIXED_NEWSTYLE
#define NBD_FLAG_C_NO_ZEROES      NBD_FLAG_NO_ZEROES

/* Options. */
#define NBD_OPT_EXPORT_NAME       1
#define NBD_OPT_ABORT             2
#define NBD_OPT_LIST              3
#define NBD_OPT_STARTTLS          5
#define NBD_OPT_INFO              6
#define NBD_OPT_GO                7
#define NBD_OPT_STRUCTURED_REPLY  8
#define NBD_OPT_LIST_META_CONTEXT 9
#define NBD_OPT_SET_META_CONTEXT  10

/* Option replies. */
#define NBD_REP_ACK               1
#define NBD_REP_SERVER            2
#define NBD_REP_INFO              3
#define NBD_REP_META_CONTEXT      4
#define NBD_REP_ERR(n)            (UINT32_C (0x80000000) | (n))
#define NBD_REP_ERR_UNSUP         NBD_REP_ERR (1)
#define NBD_REP_ERR_POLICY        NBD_REP_ERR (2)
#define NBD_REP_ERR_INVALID       NBD_REP_ERR (3)
#define NBD_REP_ERR_PLATFORM      NBD_REP_ERR (4)
#define NBD_REP_ERR_TLS_REQD      NBD_REP_ERR (5)
#define NBD_REP_ERR_UNKNOWN       NBD_REP_ERR (6)
#define NBD_REP_ERR_SHUTDOWN      NBD_REP_ERR (7)
#define NBD_REP_ERR_BLOCK_SIZE_REQD NBD_REP_ERR (8)
#define NBD_REP_ERR_TOO_BIG       NBD_REP_ERR (9)

/* NBD_REP_INFO types. */
#define NBD_INFO_EXPORT           0
#define NBD_INFO_NAME             1
#define NBD_INFO_DESCRIPTION      2
#define NBD_INFO_BLOCK_SIZE       3

/* Transmission flags. */
#define NBD_FLAG_HAS_FLAGS        (1 << 0)
#define NBD_FLAG_READ_ONLY        (1 << 1)
#define NBD_FLAG_SEND_FLUSH       (1 << 2)
#define NBD_FLAG_SEND_FUA         (1 << 3)
#define NBD_FLAG_ROTATIONAL       (1 << 4)
#define NBD_FLAG_SEND_TRIM        (1 << 5)
#define NBD_FLAG_SEND_WRITE_ZEROES (1 << 6)
#define NBD_FLAG_SEND_DF          (1 << 7)
#define NBD_FLAG_CAN_MULTI_CONN   (1 << 8)
#define NBD_FLAG_SEND_CACHE       (1 << 10)
#define NBD_FLAG_SEND_FAST_ZERO   (1 << 11)

/* Requests and replies in the transmission phase. */
#define NBD_REQUEST_MAGIC         UINT32_C (0x25609513)
#define NBD_SIMPLE_REPLY_MAGIC    UINT32_C (0x67446698)
#define NBD_STRUCTURED_REPLY_MAGIC UINT32_C (0x668e33ef)

#define NBD_REPLY_FLAG_DONE       (1 << 0)
#define NBD_REPLY_TYPE_NONE       0
#define NBD_REPLY_TYPE_OFFSET_DATA 1
#define NBD_REPLY_TYPE_OFFSET_HOLE 2
#define NBD_REPLY_TYPE_BLOCK_STATUS 5
#define NBD_REPLY_TYPE_ERROR      ((1 << 15) + 1)
#define NBD_REPLY_TYPE_ERROR_OFFSET ((1 << 15) + 2)

/* Error numbers on the wire (they happen to match Linux errno). */
#define NBD_SUCCESS     0
#define NBD_EPERM       1
#define NBD_EIO         5
#define NBD_ENOMEM      12
#define NBD_EINVAL      22
#define NBD_ENOSPC      28
#define NBD_EOVERFLOW   75
#define NBD_ENOTSUP     95
#define NBD_ESHUTDOWN   108

/* The base:allocation context: its id on this server and its flags. */
#define NBD_CONTEXT_BASE_ALLOCATION "base:allocation"
#define NBDS_BASE_ALLOCATION_ID   1

struct nbd_new_handshake {
  uint64_t nbdmagic;
  uint64_t version;             /* NBD_OPT_MAGIC */
  uint16_t gflags;
} __attribute__ ((packed));

struct nbd_option {
  uint64_t magic;               /* NBD_OPT_MAGIC */
  uint32_t option;
  uint32_t optlen;
} __attribute__ ((packed));

struct nbd_option_reply {
  uint64_t magic;               /* NBD_REP_MAGIC */
  uint32_t option;
  uint32_t reply;
  uint32_t replylen;
} __attribute__ ((packed));

struct nbd_export_name_reply {
  uint64_t size;
  uint16_t eflags;
  char zeroes[124];             /* omitted with NO_ZEROES */
} __attribute__ ((packed));

struct nbd_info_export {
  uint16_t info;                /* NBD_INFO_EXPORT */
  uint64_t size;
  uint16_t eflags;
} __attribute__ ((packed));

struct nbd_info_block_size {
  uint16_t info;                /* NBD_INFO_BLOCK_SIZE */
  uint32_t minimum;
  uint32_t preferred;
  uint32_t maximum;
} __attribute__ ((packed));

struct nbd_request {
  uint32_t magic;               /* NBD_REQUEST_MAGIC */
  uint16_t flags;
  uint16_t type;
  uint64_t cookie;              /* opaque, echoed in the reply */
  uint64_t offset;
  uint32_t count;
} __attribute__ ((packed));

struct nbd_simple_reply {
  uint32_t magic;               /* NBD_SIMPLE_REPLY_MAGIC */
  uint32_t error;
  uint64_t cookie;
} __attribute__ ((packed));

struct nbd_structured_reply {
  uint32_t magic;               /* NBD_STRUCTURED_REPLY_MAGIC */
  uint16_t flags;
  uint16_t type;
  uint64_t cookie;
  uint32_t length;              /* of the payload that follows */
} __attribute__ ((packed));

struct nbd_block_descriptor {
  uint32_t length;
  uint32_t status_flags;
} __attribute__ ((packed));

struct nbd_structured_error {
  uint32_t error;
  uint16_t len;                 /* of the message that follows */
} __attribute__ ((packed));

#endif /* NBDS_PROTOCOL_H */
