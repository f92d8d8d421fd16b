/* The fixed newstyle handshake: greeting, client flags, then options
 * until NBD_OPT_GO or NBD_OPT_EXPORT_NAME selects an export.
 *
 * Every length the client sends is checked before use; option data is
 * read into a bounded buffer, and a client gets at most
 * NBDS_MAX_OPTIONS options to make up its mind (and, on a listener,
 * the handshake timeout: see io.c).  STARTTLS moves the rest of the
 * handshake and the transmission phase into a TLS session (tls.c).
 */
#include <config.h>

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "internal.h"

/* What an option handler wants next. */
#define OPT_CLOSE    -1
#define OPT_CONTINUE  0
#define OPT_SELECTED  1

/* Sends an option reply whose payload is the concatenation of iov. */
static int
send_reply_iov (struct nbds_conn *conn, uint32_t option, uint32_t reply,
                struct iovec *payload, int n)
{
  struct nbd_option_reply hdr;
  struct iovec iov[4];
  size_t len = 0;
  int i;

  if (n > 3)
    abort ();
  iov[0].iov_base = &hdr;
  iov[0].iov_len = sizeof hdr;
  for (i = 0; i < n; ++i) {
    iov[i + 1] = payload[i];
    len += payload[i].iov_len;
  }
  hdr.magic = htobe64 (NBD_REP_MAGIC);
  hdr.option = htobe32 (option);
  hdr.reply = htobe32 (reply);
  hdr.replylen = htobe32 (len);
  if (nbds_conn_send (conn, iov, n + 1) == -1) {
    nbds_debug (conn->srv, "conn %" PRIu64 ": write option reply: %m",
                conn->id);
    return -1;
  }
  return 0;
}

static int
send_reply (struct nbds_conn *conn, uint32_t option, uint32_t reply)
{
  return send_reply_iov (conn, option, reply, NULL, 0);
}

/* Error replies carry a message for the client's user. */
static int
send_error (struct nbds_conn *conn, uint32_t option, uint32_t reply,
            const char *msg)
{
  struct iovec iov = { .iov_base = (char *) msg, .iov_len = strlen (msg) };

  nbds_debug (conn->srv, "conn %" PRIu64 ": %s: %s", conn->id,
              nbds_opt_name (option), msg);
  return send_reply_iov (conn, option, reply, &iov, 1) == -1
    ? OPT_CLOSE : OPT_CONTINUE;
}

/* A protocol string: at most 4096 bytes, no NUL. */
static bool
valid_string (const char *s, uint32_t len)
{
  return len <= NBDS_MAX_STRING && memchr (s, 0, len) == NULL;
}

static uint32_t
get32 (const char *p)
{
  uint32_t v;

  memcpy (&v, p, sizeof v);
  return be32toh (v);
}

static uint16_t
get16 (const char *p)
{
  uint16_t v;

  memcpy (&v, p, sizeof v);
  return be16toh (v);
}

const struct nbds_export_entry *
nbds_find_export (struct nbds_server *srv, const char *name, unsigned *index)
{
  size_t i;

  for (i = 0; i < srv->exports.len; ++i) {
    if (strcmp (srv->exports.ptr[i].e.name, name) == 0) {
      *index = i;
      return &srv->exports.ptr[i];
    }
  }
  /* The empty name is the default export: the first one. */
  if (name[0] == '\0' && srv->exports.len > 0) {
    *index = 0;
    return &srv->exports.ptr[0];
  }
  return NULL;
}

/* Common end of GO and EXPORT_NAME: the connection is bound to exp. */
static void
select_export (struct nbds_conn *conn, const struct nbds_export_entry *exp,
               unsigned index, const char *name)
{
  conn->exp = exp;
  conn->export_index = index;
  conn->eflags = exp->eflags;
  if (conn->structured)
    conn->eflags |= NBD_FLAG_SEND_DF;
  /* Block status only for the export SET_META_CONTEXT named. */
  conn->base_allocation = conn->base_allocation && conn->meta_export &&
    strcmp (conn->meta_export, name) == 0;
  nbds_debug (conn->srv, "conn %" PRIu64 ": export '%s' size %" PRIu64
              " flags 0x%x structured %d base:allocation %d",
              conn->id, exp->e.name, exp->e.size, conn->eflags,
              conn->structured, conn->base_allocation);
}

static int
opt_export_name (struct nbds_conn *conn, const char *data, uint32_t len)
{
  struct nbd_export_name_reply reply;
  const struct nbds_export_entry *exp;
  unsigned index;

  /* No way to report an error with this option: close. */
  if (!valid_string (data, len)) {
    nbds_log (conn->srv, NBDS_LOG_ERROR,
              "conn %" PRIu64 ": EXPORT_NAME: invalid export name", conn->id);
    return OPT_CLOSE;
  }
  exp = nbds_find_export (conn->srv, data, &index);
  if (exp == NULL) {
    nbds_log (conn->srv, NBDS_LOG_ERROR,
              "conn %" PRIu64 ": EXPORT_NAME: unknown export '%s'",
              conn->id, data);
    return OPT_CLOSE;
  }
  select_export (conn, exp, index, data);

  memset (&reply, 0, sizeof reply);
  reply.size = htobe64 (exp->e.size);
  reply.eflags = htobe16 (conn->eflags);
  if (nbds_conn_send_buf (conn, &reply,
                          conn->no_zeroes
                          ? offsetof (struct nbd_export_name_reply, zeroes)
                          : sizeof reply) == -1)
    return OPT_CLOSE;
  return OPT_SELECTED;
}

static int
send_info (struct nbds_conn *conn, uint32_t option, uint16_t type,
           const void *data, size_t len)
{
  uint16_t t = htobe16 (type);
  struct iovec iov[2] = {
    { .iov_base = &t, .iov_len = sizeof t },
    { .iov_base = (void *) data, .iov_len = len },
  };

  return send_reply_iov (conn, option, NBD_REP_INFO, iov, 2);
}

static int
opt_info_go (struct nbds_conn *conn, uint32_t option,
             const char *data, uint32_t len)
{
  const struct nbds_export_entry *exp;
  char name[NBDS_MAX_STRING + 1];
  uint32_t namelen;
  uint16_t nrinfos, i;
  bool want_name = false, want_description = false;
  unsigned index;
  uint16_t eflags;

  /* 32 bit name length, name, 16 bit count, 16 bit info requests. */
  if (len < 6)
    return send_error (conn, option, NBD_REP_ERR_INVALID,
                       "option too short");
  namelen = get32 (data);
  if (namelen > len - 6)
    return send_error (conn, option, NBD_REP_ERR_INVALID,
                       "export name length beyond the option");
  nrinfos = get16 (data + 4 + namelen);
  if (len != 4 + namelen + 2 + 2 * (uint32_t) nrinfos)
    return send_error (conn, option, NBD_REP_ERR_INVALID,
                       "wrong number of information requests");
  if (!valid_string (data + 4, namelen))
    return send_error (conn, option, NBD_REP_ERR_INVALID,
                       "invalid export name");
  memcpy (name, data + 4, namelen);
  name[namelen] = '\0';

  for (i = 0; i < nrinfos; ++i) {
    switch (get16 (data + 4 + namelen + 2 + 2 * i)) {
    case NBD_INFO_NAME: want_name = true; break;
    case NBD_INFO_DESCRIPTION: want_description = true; break;
    default: break;   /* EXPORT and BLOCK_SIZE are always sent */
    }
  }

  exp = nbds_find_export (conn->srv, name, &index);
  if (exp == NULL)
    return send_error (conn, option, NBD_REP_ERR_UNKNOWN,
                       "unknown export name");

  eflags = exp->eflags | (conn->structured ? NBD_FLAG_SEND_DF : 0);
  {
    struct nbd_info_export info;

    info.info = htobe16 (NBD_INFO_EXPORT);
    info.size = htobe64 (exp->e.size);
    info.eflags = htobe16 (eflags);
    if (send_reply_iov (conn, option, NBD_REP_INFO,
                        &(struct iovec) { &info, sizeof info }, 1) == -1)
      return OPT_CLOSE;
  }
  {
    struct nbd_info_block_size bs;

    /* The spec lets a server send this even when not asked. */
    bs.info = htobe16 (NBD_INFO_BLOCK_SIZE);
    bs.minimum = htobe32 (NBDS_BLOCK_MIN);
    bs.preferred = htobe32 (NBDS_BLOCK_PREFERRED);
    bs.maximum = htobe32 (NBDS_BLOCK_MAX);
    if (send_reply_iov (conn, option, NBD_REP_INFO,
                        &(struct iovec) { &bs, sizeof bs }, 1) == -1)
      return OPT_CLOSE;
  }
  if (want_name &&
      send_info (conn, option, NBD_INFO_NAME,
                 exp->e.name, strlen (exp->e.name)) == -1)
    return OPT_CLOSE;
  if (want_description && exp->e.description &&
      send_info (conn, option, NBD_INFO_DESCRIPTION,
                 exp->e.description, strlen (exp->e.description)) == -1)
    return OPT_CLOSE;
  if (send_reply (conn, option, NBD_REP_ACK) == -1)
    return OPT_CLOSE;

  if (option == NBD_OPT_INFO)
    return OPT_CONTINUE;
  select_export (conn, exp, index, name);
  return OPT_SELECTED;
}

static int
opt_list (struct nbds_conn *conn, uint32_t len)
{
  size_t i;

  if (len != 0)
    return send_error (conn, NBD_OPT_LIST, NBD_REP_ERR_INVALID,
                       "LIST takes no data");
  for (i = 0; i < conn->srv->exports.len; ++i) {
    const struct nbds_export *e = &conn->srv->exports.ptr[i].e;
    uint32_t namelen = htobe32 (strlen (e->name));
    struct iovec iov[3] = {
      { .iov_base = &namelen, .iov_len = sizeof namelen },
      { .iov_base = (char *) e->name, .iov_len = strlen (e->name) },
      { .iov_base = (char *) (e->description ? e->description : ""),
        .iov_len = e->description ? strlen (e->description) : 0 },
    };

    if (send_reply_iov (conn, NBD_OPT_LIST, NBD_REP_SERVER, iov, 3) == -1)
      return OPT_CLOSE;
  }
  return send_reply (conn, NBD_OPT_LIST, NBD_REP_ACK) == -1
    ? OPT_CLOSE : OPT_CONTINUE;
}

/* LIST_META_CONTEXT and SET_META_CONTEXT: only base:allocation
 * exists.  The whole option is checked before any context is sent.
 */
static int
opt_meta_context (struct nbds_conn *conn, uint32_t option,
                  const char *data, uint32_t len)
{
  const bool set = option == NBD_OPT_SET_META_CONTEXT;
  uint32_t namelen, nrqueries, i, pos;
  bool match = false;

  if (set) {
    /* SET replaces the selection even when it fails. */
    conn->base_allocation = false;
    free (conn->meta_export);
    conn->meta_export = NULL;
  }
  if (!conn->structured)
    return send_error (conn, option, NBD_REP_ERR_INVALID,
                       "structured replies not negotiated");
  if (len < 8)
    return send_error (conn, option, NBD_REP_ERR_INVALID,
                       "option too short");
  namelen = get32 (data);
  if (namelen > len - 8)
    return send_error (conn, option, NBD_REP_ERR_INVALID,
                       "export name length beyond the option");
  if (!valid_string (data + 4, namelen))
    return send_error (conn, option, NBD_REP_ERR_INVALID,
                       "invalid export name");
  nrqueries = get32 (data + 4 + namelen);
  pos = 8 + namelen;
  for (i = 0; i < nrqueries; ++i) {
    const char *q;
    uint32_t qlen;

    if (len - pos < 4)
      return send_error (conn, option, NBD_REP_ERR_INVALID,
                         "query count beyond the option");
    qlen = get32 (data + pos);
    if (qlen > len - pos - 4)
      return send_error (conn, option, NBD_REP_ERR_INVALID,
                         "query length beyond the option");
    q = data + pos + 4;
    pos += 4 + qlen;
    if (!valid_string (q, qlen))
      return send_error (conn, option, NBD_REP_ERR_INVALID,
                         "invalid query");
    if (qlen == strlen (NBD_CONTEXT_BASE_ALLOCATION) &&
        memcmp (q, NBD_CONTEXT_BASE_ALLOCATION, qlen) == 0)
      match = true;
    /* LIST may ask for the whole namespace. */
    if (!set && qlen == 5 && memcmp (q, "base:", 5) == 0)
      match = true;
  }
  if (pos != len)
    return send_error (conn, option, NBD_REP_ERR_INVALID,
                       "trailing data after the queries");
  if (!set && nrqueries == 0)
    match = true;

  if (match) {
    uint32_t id = htobe32 (set ? NBDS_BASE_ALLOCATION_ID : 0);
    struct iovec iov[2] = {
      { .iov_base = &id, .iov_len = sizeof id },
      { .iov_base = (char *) NBD_CONTEXT_BASE_ALLOCATION,
        .iov_len = strlen (NBD_CONTEXT_BASE_ALLOCATION) },
    };

    if (send_reply_iov (conn, option, NBD_REP_META_CONTEXT, iov, 2) == -1)
      return OPT_CLOSE;
    if (set) {
      conn->meta_export = strndup (data + 4, namelen);
      if (conn->meta_export == NULL)
        return OPT_CLOSE;
      conn->base_allocation = true;
    }
  }
  return send_reply (conn, option, NBD_REP_ACK) == -1
    ? OPT_CLOSE : OPT_CONTINUE;
}

static int
opt_starttls (struct nbds_conn *conn, uint32_t len)
{
  if (len != 0)
    return send_error (conn, NBD_OPT_STARTTLS, NBD_REP_ERR_INVALID,
                       "STARTTLS takes no data");
  if (conn->srv->tls_mode == NBDS_TLS_OFF)
    return send_error (conn, NBD_OPT_STARTTLS, NBD_REP_ERR_POLICY,
                       "TLS is not enabled on this server");
  if (conn->tls)
    return send_error (conn, NBD_OPT_STARTTLS, NBD_REP_ERR_INVALID,
                       "TLS already negotiated");
  /* Bytes sent before our answer were never protected: whoever sent
   * them (maybe a man in the middle), they must not count as TLS.
   */
  if (conn->in_pos != conn->in_end) {
    nbds_log (conn->srv, NBDS_LOG_ERROR,
              "conn %" PRIu64 ": data after STARTTLS before the TLS "
              "handshake, disconnecting", conn->id);
    return OPT_CLOSE;
  }
  if (send_reply (conn, NBD_OPT_STARTTLS, NBD_REP_ACK) == -1 ||
      nbds_tls_start (conn) == -1)
    return OPT_CLOSE;
  /* What was negotiated in clear is forgotten (CVE-2021-3716 in
   * nbdkit: an injected STRUCTURED_REPLY must not survive).
   */
  conn->structured = false;
  conn->base_allocation = false;
  free (conn->meta_export);
  conn->meta_export = NULL;
  return OPT_CONTINUE;
}

/* Under --tls=require, before STARTTLS, any option but STARTTLS and
 * ABORT: refused as the protocol says.
 */
static int
tls_required (struct nbds_conn *conn, uint32_t option)
{
  switch (option) {
  case NBD_OPT_EXPORT_NAME:
    /* No way to answer this one with an error. */
    nbds_log (conn->srv, NBDS_LOG_ERROR,
              "conn %" PRIu64 ": EXPORT_NAME without TLS, disconnecting",
              conn->id);
    return OPT_CLOSE;
  default:
    return send_error (conn, option, NBD_REP_ERR_TLS_REQD,
                       "TLS is required on this server");
  }
}

static bool
known_option (uint32_t option)
{
  switch (option) {
  case NBD_OPT_EXPORT_NAME: case NBD_OPT_ABORT: case NBD_OPT_LIST:
  case NBD_OPT_STARTTLS: case NBD_OPT_INFO: case NBD_OPT_GO:
  case NBD_OPT_STRUCTURED_REPLY: case NBD_OPT_LIST_META_CONTEXT:
  case NBD_OPT_SET_META_CONTEXT:
    return true;
  default:
    return false;
  }
}

static int
handle_option (struct nbds_conn *conn, uint32_t option,
               const char *data, uint32_t len)
{
  switch (option) {
  case NBD_OPT_EXPORT_NAME:
    return opt_export_name (conn, data, len);

  case NBD_OPT_INFO:
  case NBD_OPT_GO:
    return opt_info_go (conn, option, data, len);

  case NBD_OPT_LIST:
    return opt_list (conn, len);

  case NBD_OPT_ABORT:
    nbds_debug (conn->srv, "conn %" PRIu64 ": client aborted", conn->id);
    /* The client may hang up without reading this. */
    send_reply (conn, option, NBD_REP_ACK);
    return OPT_CLOSE;

  case NBD_OPT_STARTTLS:
    return opt_starttls (conn, len);

  case NBD_OPT_STRUCTURED_REPLY:
    if (len != 0)
      return send_error (conn, option, NBD_REP_ERR_INVALID,
                         "STRUCTURED_REPLY takes no data");
    if (conn->structured)
      return send_error (conn, option, NBD_REP_ERR_INVALID,
                         "structured replies already negotiated");
    if (send_reply (conn, option, NBD_REP_ACK) == -1)
      return OPT_CLOSE;
    conn->structured = true;
    return OPT_CONTINUE;

  case NBD_OPT_LIST_META_CONTEXT:
  case NBD_OPT_SET_META_CONTEXT:
    return opt_meta_context (conn, option, data, len);

  default:
    return send_error (conn, option, NBD_REP_ERR_UNSUP, "unknown option");
  }
}

int
nbds_handshake (struct nbds_conn *conn)
{
  struct nbds_server *srv = conn->srv;
  struct nbd_new_handshake greeting;
  CLEANUP_FREE char *data = NULL;
  uint32_t cflags;
  unsigned n;
  int r;

  greeting.nbdmagic = htobe64 (NBD_MAGIC);
  greeting.version = htobe64 (NBD_OPT_MAGIC);
  greeting.gflags = htobe16 (NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
  if (nbds_conn_send_buf (conn, &greeting, sizeof greeting) == -1) {
    nbds_debug (srv, "conn %" PRIu64 ": write greeting: %m", conn->id);
    return -1;
  }

  r = nbds_conn_recv (conn, &cflags, sizeof cflags);
  if (r <= 0) {
    nbds_debug (srv, "conn %" PRIu64 ": no client flags", conn->id);
    return -1;
  }
  cflags = be32toh (cflags);
  if (cflags & ~(uint32_t) (NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) {
    nbds_log (srv, NBDS_LOG_ERROR,
              "conn %" PRIu64 ": unknown client flags 0x%x",
              conn->id, cflags);
    return -1;
  }
  conn->no_zeroes = cflags & NBD_FLAG_C_NO_ZEROES;

  data = malloc (NBDS_MAX_OPTION_DATA + 1);
  if (data == NULL)
    return -1;

  for (n = 0; n < NBDS_MAX_OPTIONS; ++n) {
    struct nbd_option opt;
    uint32_t option, len;

    r = nbds_conn_recv (conn, &opt, sizeof opt);
    if (r <= 0) {
      nbds_debug (srv, "conn %" PRIu64 ": client hung up in the handshake",
                  conn->id);
      return -1;
    }
    if (be64toh (opt.magic) != NBD_OPT_MAGIC) {
      nbds_log (srv, NBDS_LOG_ERROR,
                "conn %" PRIu64 ": bad option magic", conn->id);
      return -1;
    }
    option = be32toh (opt.option);
    len = be32toh (opt.optlen);
    nbds_debug (srv, "conn %" PRIu64 ": option %s (%" PRIu32 ") length %"
                PRIu32, conn->id, nbds_opt_name (option), option, len);

    if (len > NBDS_MAX_OPTION_DATA) {
      /* Skip it if we can answer, else give up on this client. */
      if (option == NBD_OPT_EXPORT_NAME || len > NBDS_MAX_DISCARD ||
          nbds_conn_discard (conn, len) == -1) {
        nbds_log (srv, NBDS_LOG_ERROR,
                  "conn %" PRIu64 ": option data too long (%" PRIu32 ")",
                  conn->id, len);
        return -1;
      }
      r = send_error (conn, option,
                      known_option (option)
                      ? NBD_REP_ERR_INVALID : NBD_REP_ERR_UNSUP,
                      "option data too long");
      if (r == OPT_CLOSE)
        return -1;
      continue;
    }

    if (len > 0 && nbds_conn_recv (conn, data, len) <= 0) {
      nbds_debug (srv, "conn %" PRIu64 ": client hung up in an option",
                  conn->id);
      return -1;
    }
    data[len] = '\0';

    if (srv->tls_mode == NBDS_TLS_REQUIRE && conn->tls == NULL &&
        option != NBD_OPT_STARTTLS && option != NBD_OPT_ABORT) {
      if (tls_required (conn, option) == OPT_CLOSE)
        return -1;
      continue;
    }
    r = handle_option (conn, option, data, len);
    if (r == OPT_CLOSE)
      return -1;
    if (r == OPT_SELECTED)
      return 0;
  }

  nbds_log (srv, NBDS_LOG_ERROR,
            "conn %" PRIu64 ": too many options without choosing an export",
            conn->id);
  return -1;
}
