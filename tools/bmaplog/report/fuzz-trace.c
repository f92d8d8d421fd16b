/* libFuzzer harness of the trace reader of bmaplog report (read.c,
 * jsonl.c) and of the aggregation behind it (agg.c, as report --diff
 * uses it, with no map): the input is a trace file, JSON Lines or TSV,
 * with or without its header.  Malformed traces must be refused with
 * a message; records that are accepted must hold what agg.c relies on.
 *
 *   ./configure --enable-fuzzing && make
 *   tools/bmaplog/fuzz-trace -jobs=2 CORPUS SEEDS (seeds: test-report-fuzz.sh)
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>

#include "report.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct trace_reader r;
  struct trace_record rec;
  struct agg a;
  char path[64], err[256];
  int fd, n = -1;

  fd = memfd_create ("fuzz-trace", 0);
  if (fd == -1)
    abort ();
  if (size > 0 && write (fd, data, size) != (ssize_t) size)
    abort ();
  snprintf (path, sizeof path, "/proc/self/fd/%d", fd);

  if (agg_init (&a, 0, NULL) == -1)
    abort ();
  if (trace_open (&r, path) == -1) {
    /* A refusal says why. */
    if (r.err[0] == '\0')
      abort ();
  }
  else {
    while ((n = trace_next (&r, &rec)) == 1) {
      if (rec.device == NULL || rec.op >= TRACE_NR_OPS)
        abort ();
      if (agg_add (&a, &rec, err, sizeof err) == -1) {
        if (err[0] == '\0')
          abort ();
        break;
      }
    }
    if (n == -1 && r.err[0] == '\0')
      abort ();
    /* What report --diff does next. */
    if (n == 0 && agg_finish (&a, false) == -1)
      abort ();
  }
  agg_free (&a);
  trace_close (&r);
  close (fd);
  return 0;
}
