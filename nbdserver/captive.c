/* Captive mode (--run CMD): the server runs CMD under /bin/sh with
 * $uri, $nbd, $unixsocket, $port and $exportname set, and shuts down
 * when it exits.  The exit status is the command's, 128+signal if it
 * was killed, as nbdkit documents.
 */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "daemon.h"
#include "internal.h"

struct waiter_arg {
  struct nbds_captive *c;
  struct nbds_server *srv;
};

static void *
waiter (void *arg)
{
  struct waiter_arg a = *(struct waiter_arg *) arg;
  int status;

  free (arg);
  while (waitpid (a.c->pid, &status, 0) == -1) {
    if (errno != EINTR) {
      status = 1 << 8;          /* cannot happen: call it exit 1 */
      break;
    }
  }
  a.c->status = status;
  __atomic_store_n (&a.c->done, true, __ATOMIC_RELEASE);
  nbds_server_shutdown (a.srv);
  return NULL;
}

static void
set (const char *name, const char *value)
{
  setenv (name, value ? value : "", 1);
}

int
nbds_captive_start (struct nbds_captive *c, const char *cmd,
                    const struct nbds_captive_env *env,
                    struct nbds_server *srv, struct nbds_error *err)
{
  struct waiter_arg *arg;
  int r;

  memset (c, 0, sizeof *c);
  fflush (NULL);
  c->pid = fork ();
  if (c->pid == -1) {
    nbds_set_error (err, errno, "fork");
    return -1;
  }
  if (c->pid == 0) {
    /* The command must not inherit our handlers or ignored SIGPIPE. */
    nbds_reset_signals ();
    set ("uri", env->uri);
    set ("nbd", env->uri);
    set ("unixsocket", env->unixsocket);
    set ("port", env->port);
    set ("exportname", env->exportname);
    execl ("/bin/sh", "sh", "-c", cmd, (char *) NULL);
    perror ("/bin/sh");
    _exit (127);
  }

  arg = malloc (sizeof *arg);
  if (arg == NULL) {
    nbds_set_error (err, errno, "malloc");
    goto kill_it;
  }
  arg->c = c;
  arg->srv = srv;
  r = pthread_create (&c->waiter, NULL, waiter, arg);
  if (r != 0) {
    nbds_set_error (err, r, "pthread_create");
    free (arg);
    goto kill_it;
  }
  return 0;

 kill_it:
  kill (c->pid, SIGTERM);
  waitpid (c->pid, NULL, 0);
  return -1;
}

int
nbds_captive_finish (struct nbds_captive *c, const char *program_name)
{
  /* The server stopped first (a signal or an error): stop the command. */
  if (!__atomic_load_n (&c->done, __ATOMIC_ACQUIRE))
    kill (c->pid, SIGTERM);
  pthread_join (c->waiter, NULL);

  if (WIFEXITED (c->status))
    return WEXITSTATUS (c->status);
  if (WIFSIGNALED (c->status)) {
    fprintf (stderr, "%s: external command was killed by signal %d\n",
             program_name, WTERMSIG (c->status));
    return 128 + WTERMSIG (c->status);
  }
  return 1;
}
