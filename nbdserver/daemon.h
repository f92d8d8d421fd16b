/* Process management used by the frontend (daemon.c, captive.c). */
#ifndef NBDS_DAEMON_H
#define NBDS_DAEMON_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "nbdserver.h"

/* Forks: the parent exits 0, the child returns 0. */
extern int nbds_daemonize (struct nbds_error *err);
extern int nbds_write_pidfile (const char *path, struct nbds_error *err);
/* SIGTERM when the parent process dies. */
extern int nbds_exit_with_parent (struct nbds_error *err);
/* SIGINT/TERM/QUIT/HUP shut the server down (and shut stdio_fd for
 * reading if >= 0); SIGPIPE is ignored.
 */
extern void nbds_install_signals (struct nbds_server *srv, int stdio_fd);
extern void nbds_reset_signals (void);

/* --run: the captive command. */
struct nbds_captive {
  pid_t pid;
  pthread_t waiter;
  int status;                   /* from waitpid, valid once done */
  bool done;                    /* __atomic access */
};

/* The variables the command sees; NULL or "" when not applicable. */
struct nbds_captive_env {
  const char *uri;
  const char *unixsocket;
  const char *port;
  const char *exportname;
};

/* Starts /bin/sh -c cmd; when it exits, the server is shut down. */
extern int nbds_captive_start (struct nbds_captive *c, const char *cmd,
                               const struct nbds_captive_env *env,
                               struct nbds_server *srv,
                               struct nbds_error *err);
/* Stops the command if still running, waits, and returns the exit
 * status nbdkit would: the command's, or 128+signal.
 */
extern int nbds_captive_finish (struct nbds_captive *c,
                                const char *program_name);

#endif /* NBDS_DAEMON_H */
