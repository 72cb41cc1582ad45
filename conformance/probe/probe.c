/* Entry point of the conformance probe.
 *
 *   probe ITEM...                 in a container: reports and actions, in argv order
 *   probe hook NAME LOG [ACTION]  as an OCI hook: appends {hook, argv, stdin, ...} to LOG
 *   probe recv-fd SOCK MODE ...   on the host: console-socket / seccomp listener receiver
 *
 * Reports (see report.c) collect into one JSON object; the object is printed as one line on stdout
 * when an action needs it (print, sleep, exit, echo, cat) or at the end. Actions:
 *   print, sleep, sleep:MS, exit:N, trap:SIG, ignore:SIG, echo:TEXT, stderr:TEXT, cat, child,
 *   touch:PATH, write-fd:N:TEXT */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int object_open;

static void begin_object(json_t *j) {
  json_reset(j);
  json_obj_begin(j);
  object_open = 1;
}

void flush_object(json_t *j) {
  if (!object_open) return;
  /* Print only objects that have at least one key ("{" alone means nothing was reported). */
  if (j->len > 1) {
    json_obj_end(j);
    json_write_line(j, 1);
  }
  begin_object(j);
}

int parse_signal(const char *s) {
  static const struct {
    const char *name;
    int sig;
  } sigs[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL}, {"USR1", SIGUSR1},
              {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"STOP", SIGSTOP},
              {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"WINCH", SIGWINCH}};
  if (!strncmp(s, "SIG", 3)) s += 3;
  for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
    if (!strcmp(s, sigs[i].name)) return sigs[i].sig;
  char *end;
  long v = strtol(s, &end, 10);
  if (*s && !*end && v > 0 && v < 65) return (int)v;
  return -1;
}

static void on_trapped(int sig) {
  char b[40];
  int n = snprintf(b, sizeof(b), "{\"signal\":%d}\n", sig);
  if (write(1, b, (size_t)n) < 0) _exit(3);
  _exit(0);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

static void write_all(int fd, const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    s += w;
    n -= (size_t)w;
  }
}

int run_action(json_t *j, const char *item) {
  const char *colon = strchr(item, ':');
  const char *arg = colon ? colon + 1 : "";
  size_t nlen = colon ? (size_t)(colon - item) : strlen(item);
#define IS(name) (nlen == strlen(name) && !strncmp(item, name, nlen))

  if (IS("print")) {
    flush_object(j);
  } else if (IS("sleep")) {
    flush_object(j);
    if (colon) {
      sleep_ms(atol(arg));
    } else {
      for (;;) pause();
    }
  } else if (IS("exit")) {
    flush_object(j);
    _exit(atoi(arg));
  } else if (IS("trap") || IS("ignore")) {
    int sig = parse_signal(arg);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = IS("trap") ? on_trapped : SIG_IGN;
    if (sig < 0 || sigaction(sig, &sa, NULL) < 0) {
      fprintf(stderr, "probe: bad signal %s\n", arg);
      _exit(2);
    }
  } else if (IS("echo")) {
    flush_object(j);
    write_all(1, arg, strlen(arg));
    write_all(1, "\n", 1);
  } else if (IS("stderr")) {
    write_all(2, arg, strlen(arg));
    write_all(2, "\n", 1);
  } else if (IS("cat")) {
    flush_object(j);
    char b[4096];
    for (;;) {
      ssize_t n = read(0, b, sizeof(b));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      write_all(1, b, (size_t)n);
    }
  } else if (IS("child")) {
    pid_t p = fork();
    if (p == 0) {
      for (;;) pause();
    }
    json_kint(j, item, p);
  } else if (IS("touch")) {
    int fd = open(arg, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    int e = errno;
    json_key(j, item);
    json_obj_begin(j);
    json_kbool(j, "ok", fd >= 0);
    if (fd < 0) json_kint(j, "errno", e);
    json_obj_end(j);
    if (fd >= 0) close(fd);
  } else if (IS("write-fd")) {
    int fd = atoi(arg);
    const char *text = strchr(arg, ':');
    text = text ? text + 1 : "";
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    json_key(j, item);
    json_obj_begin(j);
    json_kbool(j, "ok", n >= 0);
    if (n < 0) json_kint(j, "errno", e);
    json_obj_end(j);
  } else {
    return 0;
  }
  return 1;
#undef IS
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "hook")) return hook_main(argc, argv);
  if (argc > 1 && !strcmp(argv[1], "recv-fd")) return recv_fd_main(argc, argv);

  json_t j;
  json_init(&j);
  begin_object(&j);
  for (int i = 1; i < argc; i++) {
    if (report_item(&j, argv[i], argc, argv)) continue;
    if (run_action(&j, argv[i])) continue;
    fprintf(stderr, "probe: unknown item %s\n", argv[i]);
    flush_object(&j);
    return 2;
  }
  flush_object(&j);
  return 0;
}
