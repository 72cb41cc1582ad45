/* Probe modes that run outside a container's init:
 *
 *   probe hook NAME LOG [ACTION...]
 *       An OCI hook. Reads the state JSON from stdin and appends one JSON line to LOG (O_APPEND):
 *       {"hook":NAME,"argv":[...],"stdin":"...","env":[...],"pid":N,"cwd":"...","ns":{...}}.
 *       Then runs the actions (exit:N, sleep:MS) so a hook can fail or be slow; other arguments
 *       are only recorded.
 *
 *   probe recv-fd SOCK console|seccomp [input:TEXT] [errno:N] [timeout:S]
 *       Listens on the AF_UNIX socket SOCK, prints {"listening":SOCK}, accepts one connection and
 *       receives fds by SCM_RIGHTS, printing {"received":{...}}.
 *       console: writes TEXT to the pty master, then copies the master's output until the other
 *       side is closed and prints {"output":"..."}.
 *       seccomp: acts as a seccomp agent: answers every notification with -N (default EXDEV) and
 *       prints {"notif":{"nr":..,"pid":..}} per notification, until the filter has no users. */
#define _GNU_SOURCE
#include "probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

extern char **environ;

static char *read_all_fd(int fd, size_t *len) {
  size_t cap = 4096, n = 0;
  char *b = malloc(cap);
  if (!b) abort();
  for (;;) {
    if (n + 1 >= cap) {
      cap *= 2;
      b = realloc(b, cap);
      if (!b) abort();
    }
    ssize_t r = read(fd, b + n, cap - n - 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
  }
  b[n] = '\0';
  *len = n;
  return b;
}

int hook_main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: probe hook NAME LOG [ACTION...]\n");
    return 2;
  }
  size_t n;
  char *in = read_all_fd(0, &n);
  json_t j;
  json_init(&j);
  json_obj_begin(&j);
  json_kstr(&j, "hook", argv[2]);
  json_key(&j, "argv");
  json_arr_begin(&j);
  for (int i = 0; i < argc; i++) json_str(&j, argv[i]);
  json_arr_end(&j);
  json_key(&j, "stdin");
  json_strn(&j, in, n);
  json_key(&j, "env");
  json_arr_begin(&j);
  for (char **e = environ; e && *e; e++) json_str(&j, *e);
  json_arr_end(&j);
  json_kint(&j, "pid", getpid());
  char cwd[PATH_MAX];
  json_kstr(&j, "cwd", getcwd(cwd, sizeof(cwd)) ? cwd : "");
  json_key(&j, "ns");
  json_obj_begin(&j);
  static const char *nss[] = {"mnt", "pid", "uts", "ipc", "net", "user", "cgroup"};
  for (size_t i = 0; i < sizeof(nss) / sizeof(nss[0]); i++) {
    char p[64], t[128];
    snprintf(p, sizeof(p), "/proc/self/ns/%s", nss[i]);
    ssize_t r = readlink(p, t, sizeof(t) - 1);
    t[r < 0 ? 0 : r] = '\0';
    json_kstr(&j, nss[i], t);
  }
  json_obj_end(&j);
  /* The parent's mount namespace: the runtime that ran the hook, for "executed in the runtime namespace". */
  char pp[64], pt[128];
  snprintf(pp, sizeof(pp), "/proc/%d/ns/mnt", (int)getppid());
  ssize_t pr = readlink(pp, pt, sizeof(pt) - 1);
  pt[pr < 0 ? 0 : pr] = '\0';
  json_kstr(&j, "parentMnt", pt);
  json_obj_end(&j);
  int fd = open(argv[3], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    fprintf(stderr, "probe hook: open %s: %s\n", argv[3], strerror(errno));
    return 1;
  }
  json_write_line(&j, fd);
  close(fd);
  json_free(&j);
  free(in);

  json_t none;
  json_init(&none);
  /* Arguments that are not actions (exit:N, sleep:MS) are only recorded in argv. */
  for (int i = 4; i < argc; i++) run_action(&none, argv[i]);
  return 0;
}

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "{\"timeout\":true}\n";
  if (write(1, msg, sizeof(msg) - 1) < 0) _exit(4);
  _exit(3);
}

static void print_line(json_t *j) {
  json_write_line(j, 1);
  json_reset(j);
}

static int console_loop(int master, const char *input) {
  json_t j;
  json_init(&j);
  if (input) {
    size_t n = strlen(input);
    if (write(master, input, n) < 0) perror("probe recv-fd: write input");
  }
  size_t n;
  /* read() on the master fails with EIO once every slave fd is closed: that ends the copy. */
  char *out = read_all_fd(master, &n);
  json_obj_begin(&j);
  json_key(&j, "output");
  json_strn(&j, out, n);
  json_obj_end(&j);
  print_line(&j);
  free(out);
  json_free(&j);
  return 0;
}

static int seccomp_loop(int nfd, int err) {
  json_t j;
  json_init(&j);
  for (;;) {
    struct pollfd p = {.fd = nfd, .events = POLLIN};
    int r = poll(&p, 1, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return 1;
    if (p.revents & POLLIN) {
      struct seccomp_notif req;
      memset(&req, 0, sizeof(req));
      if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
        if (errno == EINTR || errno == ENOENT) continue;
        return 1;
      }
      struct seccomp_notif_resp resp;
      memset(&resp, 0, sizeof(resp));
      resp.id = req.id;
      resp.error = -err;
      /* ENOENT: the target died before the answer; nothing to do. */
      ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
      json_obj_begin(&j);
      json_key(&j, "notif");
      json_obj_begin(&j);
      json_kint(&j, "nr", req.data.nr);
      json_kint(&j, "pid", req.pid);
      json_obj_end(&j);
      json_obj_end(&j);
      print_line(&j);
      continue;
    }
    if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) break;
  }
  json_obj_begin(&j);
  json_kbool(&j, "done", 1);
  json_obj_end(&j);
  print_line(&j);
  json_free(&j);
  return 0;
}

int recv_fd_main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: probe recv-fd SOCK console|seccomp [input:TEXT] [errno:N] [timeout:S]\n");
    return 2;
  }
  const char *path = argv[2], *mode = argv[3], *input = NULL;
  int err = EXDEV, timeout = 30;
  for (int i = 4; i < argc; i++) {
    if (!strncmp(argv[i], "input:", 6)) input = argv[i] + 6;
    else if (!strncmp(argv[i], "errno:", 6)) err = atoi(argv[i] + 6);
    else if (!strncmp(argv[i], "timeout:", 8)) timeout = atoi(argv[i] + 8);
  }
  signal(SIGALRM, on_alarm);
  signal(SIGPIPE, SIG_IGN);
  alarm((unsigned)timeout);

  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (s < 0 || strlen(path) >= sizeof(addr.sun_path)) {
    perror("probe recv-fd: socket");
    return 1;
  }
  strcpy(addr.sun_path, path);
  unlink(path);
  if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(s, 4) < 0) {
    perror("probe recv-fd: bind/listen");
    return 1;
  }
  json_t j;
  json_init(&j);
  json_obj_begin(&j);
  json_kstr(&j, "listening", path);
  json_obj_end(&j);
  print_line(&j);

  int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) {
    perror("probe recv-fd: accept");
    return 1;
  }
  static char payload[65536];
  char cbuf[CMSG_SPACE(sizeof(int) * 8)];
  struct iovec iov = {.iov_base = payload, .iov_len = sizeof(payload) - 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
  ssize_t n = recvmsg(c, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) {
    perror("probe recv-fd: recvmsg");
    return 1;
  }
  payload[n] = '\0';
  int fds[8], nfds = 0;
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < k && nfds < 8; i++) memcpy(&fds[nfds++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
  }
  json_obj_begin(&j);
  json_key(&j, "received");
  json_obj_begin(&j);
  json_kint(&j, "fds", nfds);
  json_key(&j, "payload");
  json_strn(&j, payload, (size_t)n);
  if (nfds > 0) {
    char p[64], t[PATH_MAX];
    snprintf(p, sizeof(p), "/proc/self/fd/%d", fds[0]);
    ssize_t r = readlink(p, t, sizeof(t) - 1);
    t[r < 0 ? 0 : r] = '\0';
    json_kstr(&j, "fdlink", t);
    json_kbool(&j, "isatty", isatty(fds[0]));
    char pts[64];
    if (ptsname_r(fds[0], pts, sizeof(pts)) == 0) json_kstr(&j, "ptsname", pts);
  }
  json_obj_end(&j);
  json_obj_end(&j);
  print_line(&j);
  close(c);
  close(s);
  unlink(path);
  if (nfds == 0) return 1;
  if (!strcmp(mode, "console")) return console_loop(fds[0], input);
  if (!strcmp(mode, "seccomp")) return seccomp_loop(fds[0], err);
  fprintf(stderr, "probe recv-fd: unknown mode %s\n", mode);
  return 2;
}
