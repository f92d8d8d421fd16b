/* Messages: the server's log callback, setup errors, names of
 * commands and options for debug output.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

void
nbds_log (struct nbds_server *srv, int level, const char *fs, ...)
{
  char msg[1024];
  va_list args;
  int saved_errno = errno;      /* so callers can use %m after us */

  va_start (args, fs);
  vsnprintf (msg, sizeof msg, fs, args);
  va_end (args);

  if (srv->log)
    srv->log (srv->log_opaque, level, msg);
  else
    fprintf (stderr, "nbdserver: %s%s\n",
             level == NBDS_LOG_DEBUG ? "debug: " : "", msg);
  errno = saved_errno;
}

void
nbds_set_error (struct nbds_error *err, int errnum, const char *fs, ...)
{
  va_list args;
  size_t len;

  err->errnum = errnum;
  va_start (args, fs);
  vsnprintf (err->msg, sizeof err->msg, fs, args);
  va_end (args);
  len = strlen (err->msg);
  if (errnum != 0 && len < sizeof err->msg)
    snprintf (err->msg + len, sizeof err->msg - len, ": %s",
              strerror (errnum));
}

const char *
nbds_cmd_name (uint16_t cmd)
{
  switch (cmd) {
  case NBDS_CMD_READ: return "READ";
  case NBDS_CMD_WRITE: return "WRITE";
  case NBDS_CMD_DISC: return "DISC";
  case NBDS_CMD_FLUSH: return "FLUSH";
  case NBDS_CMD_TRIM: return "TRIM";
  case NBDS_CMD_CACHE: return "CACHE";
  case NBDS_CMD_WRITE_ZEROES: return "WRITE_ZEROES";
  case NBDS_CMD_BLOCK_STATUS: return "BLOCK_STATUS";
  default: return "unknown";
  }
}

const char *
nbds_opt_name (uint32_t opt)
{
  switch (opt) {
  case NBD_OPT_EXPORT_NAME: return "EXPORT_NAME";
  case NBD_OPT_ABORT: return "ABORT";
  case NBD_OPT_LIST: return "LIST";
  case NBD_OPT_STARTTLS: return "STARTTLS";
  case NBD_OPT_INFO: return "INFO";
  case NBD_OPT_GO: return "GO";
  case NBD_OPT_STRUCTURED_REPLY: return "STRUCTURED_REPLY";
  case NBD_OPT_LIST_META_CONTEXT: return "LIST_META_CONTEXT";
  case NBD_OPT_SET_META_CONTEXT: return "SET_META_CONTEXT";
  default: return "unknown";
  }
}
