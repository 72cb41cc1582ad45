/* Report items: each adds one key (the item text itself) to the current JSON object.
 * Raw kernel text (status, mountinfo, maps) is passed through as strings; the TypeScript side parses it. */
#define _GNU_SOURCE
#include "probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int read_file(const char *path, char **out, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  size_t cap = 4096, n = 0;
  char *b = malloc(cap);
  if (!b) abort();
  for (;;) {
    if (n + 1 >= cap) {
      if (cap >= (1u << 20)) break; /* 1 MiB is plenty for what the probe reads */
      cap *= 2;
      b = realloc(b, cap);
      if (!b) abort();
    }
    ssize_t r = read(fd, b + n, cap - n - 1);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      free(b);
      return -e;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  b[n] = '\0';
  *out = b;
  if (len) *len = n;
  return 0;
}

static void err_obj(json_t *j, int err) {
  json_obj_begin(j);
  json_kint(j, "errno", err);
  json_kstr(j, "error", strerror(err));
  json_obj_end(j);
}

/* A file's whole text as a string, or {"errno": N}. */
static void file_value(json_t *j, const char *path) {
  char *b;
  size_t n;
  int r = read_file(path, &b, &n);
  if (r < 0) {
    err_obj(j, -r);
    return;
  }
  json_strn(j, b, n);
  free(b);
}

static const char *type_letter(mode_t m) {
  if (S_ISREG(m)) return "f";
  if (S_ISDIR(m)) return "d";
  if (S_ISLNK(m)) return "l";
  if (S_ISCHR(m)) return "c";
  if (S_ISBLK(m)) return "b";
  if (S_ISFIFO(m)) return "p";
  if (S_ISSOCK(m)) return "s";
  return "?";
}

static void stat_value(json_t *j, const char *path) {
  struct stat st;
  if (lstat(path, &st) < 0) {
    err_obj(j, errno);
    return;
  }
  json_obj_begin(j);
  json_kstr(j, "type", type_letter(st.st_mode));
  json_kint(j, "mode", st.st_mode & 07777);
  json_kint(j, "uid", st.st_uid);
  json_kint(j, "gid", st.st_gid);
  json_kint(j, "size", st.st_size);
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    json_kint(j, "major", major(st.st_rdev));
    json_kint(j, "minor", minor(st.st_rdev));
  }
  if (S_ISLNK(st.st_mode)) {
    char t[PATH_MAX];
    ssize_t n = readlink(path, t, sizeof(t) - 1);
    if (n >= 0) {
      t[n] = '\0';
      json_kstr(j, "target", t);
    }
  }
  json_obj_end(j);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in a directory (without . and ..); returns count, or -errno. */
static int list_dir(const char *path, char ***names) {
  DIR *d = opendir(path);
  if (!d) return -errno;
  int n = 0, cap = 64;
  char **v = malloc(sizeof(char *) * (size_t)cap);
  if (!v) abort();
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (n == cap) {
      cap *= 2;
      v = realloc(v, sizeof(char *) * (size_t)cap);
      if (!v) abort();
    }
    v[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(v, (size_t)n, sizeof(char *), cmp_str);
  *names = v;
  return n;
}

static void free_names(char **v, int n) {
  for (int i = 0; i < n; i++) free(v[i]);
  free(v);
}

/* path -> stat for a directory and its entries, following no symlinks, up to `depth` levels. */
static void tree_walk(json_t *j, const char *path, int depth, int *budget) {
  json_key(j, path);
  stat_value(j, path);
  if (depth == 0 || --*budget <= 0) return;
  struct stat st;
  if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) return;
  char **names;
  int n = list_dir(path, &names);
  if (n < 0) return;
  for (int i = 0; i < n && *budget > 0; i++) {
    char child[PATH_MAX];
    snprintf(child, sizeof(child), "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", names[i]);
    tree_walk(j, child, depth - 1, budget);
  }
  free_names(names, n);
}

static void rlimits_value(json_t *j) {
  static const struct {
    const char *name;
    int res;
  } lims[] = {
      {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_CPU", RLIMIT_CPU},
      {"RLIMIT_DATA", RLIMIT_DATA},       {"RLIMIT_FSIZE", RLIMIT_FSIZE},       {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
      {"RLIMIT_NOFILE", RLIMIT_NOFILE},   {"RLIMIT_NPROC", RLIMIT_NPROC},       {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},     {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_STACK", RLIMIT_STACK},
  };
  json_obj_begin(j);
  for (size_t i = 0; i < sizeof(lims) / sizeof(lims[0]); i++) {
    struct rlimit rl;
    json_key(j, lims[i].name);
    if (getrlimit(lims[i].res, &rl) < 0) {
      err_obj(j, errno);
      continue;
    }
    /* -1 stands for RLIM_INFINITY, which does not fit a JSON number safely. */
    json_arr_begin(j);
    json_int(j, rl.rlim_cur == RLIM_INFINITY ? -1 : (long long)rl.rlim_cur);
    json_int(j, rl.rlim_max == RLIM_INFINITY ? -1 : (long long)rl.rlim_max);
    json_arr_end(j);
  }
  json_obj_end(j);
}

static void fds_value(json_t *j) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) {
    err_obj(j, errno);
    return;
  }
  int self = dirfd(d);
  json_obj_begin(j);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd == self) continue;
    char p[64], t[PATH_MAX];
    snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(p, t, sizeof(t) - 1);
    t[n < 0 ? 0 : n] = '\0';
    json_kstr(j, e->d_name, t);
  }
  json_obj_end(j);
  closedir(d);
}

static void ns_value(json_t *j) {
  char **names;
  int n = list_dir("/proc/self/ns", &names);
  if (n < 0) {
    err_obj(j, -n);
    return;
  }
  json_obj_begin(j);
  for (int i = 0; i < n; i++) {
    char p[PATH_MAX], t[PATH_MAX];
    snprintf(p, sizeof(p), "/proc/self/ns/%s", names[i]);
    ssize_t r = readlink(p, t, sizeof(t) - 1);
    t[r < 0 ? 0 : r] = '\0';
    json_kstr(j, names[i], t);
  }
  json_obj_end(j);
  free_names(names, n);
}

static void tty_value(json_t *j) {
  json_obj_begin(j);
  for (int fd = 0; fd < 3; fd++) {
    char k[8];
    snprintf(k, sizeof(k), "%d", fd);
    json_key(j, k);
    json_obj_begin(j);
    json_kbool(j, "isatty", isatty(fd));
    char *name = ttyname(fd);
    json_kstr(j, "name", name);
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0) {
      json_kint(j, "rows", ws.ws_row);
      json_kint(j, "cols", ws.ws_col);
    }
    json_obj_end(j);
  }
  /* The controlling terminal, if any. */
  int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  json_kbool(j, "ctty", fd >= 0);
  if (fd >= 0) close(fd);
  json_obj_end(j);
}

static void ids_value(json_t *j) {
  json_obj_begin(j);
  json_kint(j, "uid", getuid());
  json_kint(j, "euid", geteuid());
  json_kint(j, "gid", getgid());
  json_kint(j, "egid", getegid());
  gid_t g[256];
  int n = getgroups(256, g);
  json_key(j, "groups");
  json_arr_begin(j);
  for (int i = 0; i < n; i++) json_int(j, g[i]);
  json_arr_end(j);
  json_obj_end(j);
}

/* Result of a syscall attempt: {"ok":true} or {"ok":false,"errno":N}. */
static void attempt_value(json_t *j, int rc) {
  int e = errno;
  json_obj_begin(j);
  json_kbool(j, "ok", rc == 0);
  if (rc != 0) {
    json_kint(j, "errno", e);
    json_kstr(j, "error", strerror(e));
  }
  json_obj_end(j);
}

static int try_writable(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) return -1;
  if (S_ISDIR(st.st_mode)) {
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/.probe-writable-%d", path, (int)getpid());
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    close(fd);
    unlink(p);
    return 0;
  }
  int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return -1;
  close(fd);
  return 0;
}

static void sysctl_value(json_t *j, const char *name) {
  char p[PATH_MAX] = "/proc/sys/";
  size_t off = strlen(p);
  for (const char *c = name; *c && off < sizeof(p) - 1; c++) p[off++] = *c == '.' ? '/' : *c;
  p[off] = '\0';
  char *b;
  size_t n;
  int r = read_file(p, &b, &n);
  if (r < 0) {
    err_obj(j, -r);
    return;
  }
  while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == ' ')) n--;
  json_strn(j, b, n);
  free(b);
}

static void str_array(json_t *j, char **v) {
  json_arr_begin(j);
  for (; v && *v; v++) json_str(j, *v);
  json_arr_end(j);
}

int report_item(json_t *j, const char *item, int argc, char **argv) {
  const char *colon = strchr(item, ':');
  const char *arg = colon ? colon + 1 : "";
  size_t nlen = colon ? (size_t)(colon - item) : strlen(item);
#define IS(name) (nlen == strlen(name) && !strncmp(item, name, nlen))

  if (IS("status")) {
    json_key(j, item);
    file_value(j, "/proc/self/status");
  } else if (IS("mountinfo")) {
    json_key(j, item);
    file_value(j, "/proc/self/mountinfo");
  } else if (IS("cgroup")) {
    json_key(j, item);
    file_value(j, "/proc/self/cgroup");
  } else if (IS("idmap")) {
    json_key(j, item);
    json_obj_begin(j);
    json_key(j, "uid_map");
    file_value(j, "/proc/self/uid_map");
    json_key(j, "gid_map");
    file_value(j, "/proc/self/gid_map");
    json_key(j, "setgroups");
    file_value(j, "/proc/self/setgroups");
    json_obj_end(j);
  } else if (IS("rlimits")) {
    json_key(j, item);
    rlimits_value(j);
  } else if (IS("uts")) {
    struct utsname u;
    json_key(j, item);
    if (uname(&u) < 0) {
      err_obj(j, errno);
    } else {
      json_obj_begin(j);
      json_kstr(j, "hostname", u.nodename);
      json_kstr(j, "domainname", u.domainname);
      json_obj_end(j);
    }
  } else if (IS("umask")) {
    mode_t m = umask(0);
    umask(m);
    json_kint(j, item, m);
  } else if (IS("cwd")) {
    char b[PATH_MAX];
    json_key(j, item);
    if (getcwd(b, sizeof(b))) json_str(j, b);
    else err_obj(j, errno);
  } else if (IS("env")) {
    json_key(j, item);
    str_array(j, environ);
  } else if (IS("args")) {
    json_key(j, item);
    json_arr_begin(j);
    for (int i = 0; i < argc; i++) json_str(j, argv[i]);
    json_arr_end(j);
  } else if (IS("fds")) {
    json_key(j, item);
    fds_value(j);
  } else if (IS("oom")) {
    json_key(j, item);
    file_value(j, "/proc/self/oom_score_adj");
  } else if (IS("ns")) {
    json_key(j, item);
    ns_value(j);
  } else if (IS("ids")) {
    json_key(j, item);
    ids_value(j);
  } else if (IS("pid")) {
    json_key(j, item);
    json_obj_begin(j);
    json_kint(j, "pid", getpid());
    json_kint(j, "ppid", getppid());
    json_kint(j, "sid", getsid(0));
    json_kint(j, "pgid", getpgid(0));
    json_obj_end(j);
  } else if (IS("tty")) {
    json_key(j, item);
    tty_value(j);
  } else if (IS("exe")) {
    char t[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", t, sizeof(t) - 1);
    t[n < 0 ? 0 : n] = '\0';
    json_kstr(j, item, t);
  } else if (IS("sched")) {
    json_key(j, item);
    json_obj_begin(j);
    json_kint(j, "policy", sched_getscheduler(0) & ~SCHED_RESET_ON_FORK);
    errno = 0;
    json_kint(j, "nice", getpriority(PRIO_PROCESS, 0));
    /* ioprio_get(IOPRIO_WHO_PROCESS, self): class in bits 13+, data in the low 13 bits. */
    long io = syscall(SYS_ioprio_get, 1, 0);
    json_kint(j, "ioprioClass", io < 0 ? -1 : io >> 13);
    json_kint(j, "ioprioData", io < 0 ? -1 : io & 0x1fff);
    cpu_set_t set;
    json_key(j, "cpus");
    json_arr_begin(j);
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
      for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set)) json_int(j, c);
    json_arr_end(j);
    json_obj_end(j);
  } else if (IS("personality")) {
    json_kint(j, item, personality(0xffffffff));
  } else if (IS("file")) {
    json_key(j, item);
    file_value(j, arg);
  } else if (IS("stat")) {
    json_key(j, item);
    stat_value(j, arg);
  } else if (IS("ls")) {
    char **names;
    int n = list_dir(arg, &names);
    json_key(j, item);
    if (n < 0) {
      err_obj(j, -n);
    } else {
      json_arr_begin(j);
      for (int i = 0; i < n; i++) json_str(j, names[i]);
      json_arr_end(j);
      free_names(names, n);
    }
  } else if (IS("tree")) {
    int budget = 4000;
    json_key(j, item);
    json_obj_begin(j);
    tree_walk(j, arg, 2, &budget);
    json_obj_end(j);
  } else if (IS("writable")) {
    json_key(j, item);
    attempt_value(j, try_writable(arg));
  } else if (IS("mkdir")) {
    int rc = mkdir(arg, 0755);
    json_key(j, item);
    attempt_value(j, rc);
    if (rc == 0) rmdir(arg);
  } else if (IS("sethostname")) {
    json_key(j, item);
    attempt_value(j, sethostname(arg, strlen(arg)));
  } else if (IS("open")) {
    int fd = open(arg, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    json_key(j, item);
    attempt_value(j, fd < 0 ? -1 : 0);
    if (fd >= 0) close(fd);
  } else if (IS("clock")) {
    struct timespec ts;
    clock_gettime(!strcmp(arg, "boottime") ? CLOCK_BOOTTIME : CLOCK_MONOTONIC, &ts);
    json_kint(j, item, ts.tv_sec);
  } else if (IS("uname")) {
    struct utsname u;
    uname(&u);
    json_kstr(j, item, u.machine);
  } else if (IS("chown")) {
    json_key(j, item);
    attempt_value(j, chown(arg, 1, 1));
  } else if (IS("sysctl")) {
    json_key(j, item);
    sysctl_value(j, arg);
  } else {
    return 0;
  }
  return 1;
#undef IS
}
