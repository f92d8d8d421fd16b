/* virt-bmap: build a block map of disk images, query it, export it. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virt-bmap.h"

extern char **environ;

/* Moves TZ to the front of the environment: glibc's mktime looks it up
 * on every call, and getenv compares each variable in turn (setenv
 * put it last).  The order of the environment means nothing else.
 */
static void
tz_first (void)
{
  char **e, *tz;

  for (e = environ; *e; ++e)
    if (strncmp (*e, "TZ=", 3) == 0) {
      tz = *e;
      memmove (environ + 1, environ, (e - environ) * sizeof *e);
      environ[0] = tz;
      return;
    }
}

int
main (int argc, char *argv[])
{
  /* "virt-bmap query ..." and "virt-bmap export ..." are subcommands;
   * anything else builds a map.
   */
  /* libtsk converts every FAT timestamp with mktime; with TZ unset,
   * glibc stats /etc/localtime on each call (300,000 stats for 100,000
   * files).  Naming the same zone explicitly keeps the local time and
   * lets glibc load it once.  Set here, before any thread starts.
   */
  if (getenv ("TZ") == NULL)
    setenv ("TZ", ":/etc/localtime", 0);
  tz_first ();
  if (argc >= 2 && strcmp (argv[1], "query") == 0)
    return query_main (argc - 1, argv + 1);
  if (argc >= 2 && strcmp (argv[1], "export") == 0)
    return export_main (argc - 1, argv + 1);
  return build_main (argc, argv);
}
