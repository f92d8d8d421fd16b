/* bmaplog: serve disks over NBD and log every request as the objects
 * it touched (tracer/), and make reports from the traces (report/).
 * trace-format.h is the contract between the two.
 */
#ifndef BMAPLOG_H
#define BMAPLOG_H

#define PROG "bmaplog"

/* report/main.c: bmaplog report, the reports made from traces. */
extern int report_main (int argc, char *argv[]);

#endif /* BMAPLOG_H */
