/* The conformance probe: a static helper placed in every test rootfs (and run on the host for
 * hooks, console sockets and seccomp agents). It reports what the process sees as JSON lines. */
#ifndef PROBE_H
#define PROBE_H

#include "json.h"

/* report.c: one report item ("status", "stat:/dev/null", ...) into the open object of j.
 * Returns 1 if the item was a report, 0 if it is unknown. */
int report_item(json_t *j, const char *item, int argc, char **argv);

/* host.c: modes that run outside the container. */
int hook_main(int argc, char **argv);
int recv_fd_main(int argc, char **argv);

/* probe.c: actions shared by the modes (sleep:MS, exit:N ...). Returns 1 if handled. */
int run_action(json_t *j, const char *item);
void flush_object(json_t *j);

/* Helpers. */
int read_file(const char *path, char **out, size_t *len);
int parse_signal(const char *s);

#endif
