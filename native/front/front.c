// bin/hako: the front. It decides nothing about containers; it only carries a call to the warm
// daemon (src/cli/daemon/) and back, or hands it to node (the cold path, bin/hako.cjs).
//
//   1. finds the --root in argv (the socket is <root>/hako.sock); no socket, a refused connection,
//      a daemon of another uid: exec node at once (the cold path)
//   2. sends the call (build id, cwd, argv, environment) and relays what comes back:
//        'C' go cold (nothing was done)      'A' the daemon acts from here
//        'O' / 'E' bytes for stdout / stderr 'X' u32 exit status: exit with it
//        'F' u32 n, path: fork the executor at `path` with our fds 0..2+n and a SOCK_SEQPACKET
//            channel at 3+n, answer 'P' u32 pid, u32 fd of the daemon's end (it takes a copy
//            with pidfd_getfd)             'K' the daemon holds its copy: close ours
//        'S' forward signals from now on (a call waiting in the foreground): each of the signals
//            node's SignalForwarder forwards goes to the daemon as 'G' u32 signal number
//      and reports the executor's exit as 'W' u32 pid, i32 wait status;
//   3. the daemon gone before 'A': exec node (nothing was done); after 'A': exec node with
//      HAKO_DAEMON_DIED=1, and the TypeScript side decides what is left to do.
// Every policy (which calls are served, the namespace check, what a dead daemon leaves) is in
// TypeScript; the build compiles this with HAKO_BUILD_ID and HAKO_NODE (scripts/build-front.mjs).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef HAKO_BUILD_ID
#error "HAKO_BUILD_ID must be defined by the build"
#endif
#ifndef HAKO_NODE
#define HAKO_NODE "node"
#endif

#define MAGIC "hako-front/1"
#define MAX_FRAME (1u << 24)

extern char **environ;

static int g_argc;
static char **g_argv;
static sigset_t g_old_mask;

// The cold path: node runs bin/hako.cjs beside this binary with the same arguments.
static void __attribute__((noreturn)) go_cold(int daemon_died) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 16);
    if (n <= 0) {
        perror("hako: readlink /proc/self/exe");
        exit(127);
    }
    self[n] = 0;
    char *slash = strrchr(self, '/');
    strcpy(slash ? slash + 1 : self, "hako.cjs");
    if (daemon_died) setenv("HAKO_DAEMON_DIED", "1", 1);
    sigprocmask(SIG_SETMASK, &g_old_mask, NULL);

    char **args = calloc((size_t)g_argc + 2, sizeof(char *));
    if (!args) exit(127);
    args[0] = HAKO_NODE;
    args[1] = self;
    for (int i = 1; i < g_argc; i++) args[i + 1] = g_argv[i];
    if (access(HAKO_NODE, X_OK) == 0) execv(HAKO_NODE, args);
    args[0] = "node";
    execvp("node", args);
    fprintf(stderr, "hako: cannot run node: %s\n", strerror(errno));
    exit(127);
}

// The --root of argv (runc's global flags come before the subcommand): --root X, --root=X, -root X.
static const char *root_of(int argc, char **argv) {
    static const char *const valued[] = {"log", "log-format", "criu", "rootless", NULL};
    const char *root = "/run/hako";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || strcmp(a, "--") == 0) break;
        const char *name = a + (a[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        if (len == 4 && strncmp(name, "root", 4) == 0) {
            if (eq) root = eq + 1;
            else if (i + 1 < argc) root = argv[++i];
            continue;
        }
        if (eq) continue;
        for (const char *const *v = valued; *v; v++) {
            if (strlen(*v) == len && strncmp(name, *v, len) == 0 && i + 1 < argc) {
                i++;
                break;
            }
        }
    }
    return root;
}

static int write_full(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK) n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

// 1: read all, 0: EOF or error before all of it
static int read_full(int fd, void *buf, size_t len) {
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        p += n;
        len -= (size_t)n;
    }
    return 1;
}

struct buf {
    char *data;
    size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t len) {
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len) cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) go_cold(0);
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

static void put_str(struct buf *b, const char *s) {
    put(b, s, strlen(s) + 1);
}

static void put_num(struct buf *b, long v) {
    char text[32];
    snprintf(text, sizeof(text), "%ld", v);
    put_str(b, text);
}

static void send_frame(int s, char type, const void *payload, uint32_t len) {
    char head[5];
    head[0] = type;
    memcpy(head + 1, &len, 4);
    // the daemon gone: what it started ends without us (the executor reads EOF)
    if (write_full(s, head, 5) < 0 || (len > 0 && write_full(s, payload, len) < 0)) return;
}

// fork + exec of the executor: fds 0..2 and the n preserved ones are ours, the channel is 3+n.
static void fork_executor(int s, const char *payload, uint32_t len, pid_t *executor, int *channel) {
    uint32_t answer[2] = {0, 0};
    uint32_t n;
    if (len < 5 || payload[len - 1] != 0) {
        answer[1] = EINVAL;
        send_frame(s, 'P', answer, sizeof(answer));
        return;
    }
    memcpy(&n, payload, 4);
    const char *path = payload + 4;
    int sv[2];
    if (n > 4096 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        answer[1] = n > 4096 ? EINVAL : (uint32_t)errno;
        send_frame(s, 'P', answer, sizeof(answer));
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int chan = 3 + (int)n;
        char arg[16];
        snprintf(arg, sizeof(arg), "%d", chan);
        // as node's spawn (detached): own session, default signal dispositions, nothing blocked
        setsid();
        for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int high = fcntl(sv[1], F_DUPFD_CLOEXEC, chan + 1);
        if (high < 0 || dup2(high, chan) < 0 || fcntl(chan, F_SETFD, 0) < 0) _exit(126);
        char *args[] = {(char *)path, arg, NULL};
        execve(path, args, environ);
        _exit(127);
    }
    close(sv[1]);
    if (pid < 0) {
        answer[1] = (uint32_t)errno;
        close(sv[0]);
    } else {
        answer[0] = (uint32_t)pid;
        answer[1] = (uint32_t)sv[0];
        *executor = pid;
        *channel = sv[0];
    }
    send_frame(s, 'P', answer, sizeof(answer));
}

static int connect_daemon(const char *root) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/hako.sock", root) >= (int)sizeof(addr.sun_path)) return -1;
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        close(s);
        return -1;
    }
    // only a daemon of our own uid
    struct ucred cred;
    socklen_t clen = sizeof(cred);
    if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || cred.uid != geteuid()) {
        close(s);
        return -1;
    }
    return s;
}

int main(int argc, char **argv) {
    g_argc = argc;
    g_argv = argv;
    sigprocmask(SIG_SETMASK, NULL, &g_old_mask);
    const char *off = getenv("HAKO_NO_DAEMON");
    if (off && *off) go_cold(0);

    int s = connect_daemon(root_of(argc, argv));
    if (s < 0) go_cold(0);

    struct buf req = {0};
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd))) go_cold(0);
    put_str(&req, MAGIC);
    put_str(&req, HAKO_BUILD_ID);
    put_str(&req, cwd);
    put_num(&req, argc - 1);
    for (int i = 1; i < argc; i++) put_str(&req, argv[i]);
    long envc = 0;
    for (char **e = environ; *e; e++) envc++;
    put_num(&req, envc);
    for (char **e = environ; *e; e++) put_str(&req, *e);
    uint32_t total = (uint32_t)req.len;
    if (write_full(s, &total, 4) < 0 || write_full(s, req.data, req.len) < 0) go_cold(0);
    free(req.data);

    // SIGCHLD through a signalfd: the executor's exit is reported, never handled in a handler
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) go_cold(0);

    int accepted = 0;
    int channel = -1;
    pid_t executor = 0;
    char *payload = NULL;
    for (;;) {
        struct pollfd fds[2] = {{.fd = s, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            go_cold(accepted);
        }
        if (fds[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                if (si.ssi_signo == SIGCHLD) continue;
                uint32_t signo = si.ssi_signo;
                send_frame(s, 'G', &signo, sizeof(signo));
            }
            int status;
            pid_t pid;
            while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
                if (pid != executor) continue;
                int32_t report[2] = {pid, status};
                send_frame(s, 'W', report, sizeof(report));
            }
        }
        if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char head[5];
        uint32_t len;
        if (!read_full(s, head, 5)) go_cold(accepted);
        memcpy(&len, head + 1, 4);
        if (len > MAX_FRAME) go_cold(accepted);
        free(payload);
        payload = malloc(len + 1);
        if (!payload || (len > 0 && !read_full(s, payload, len))) go_cold(accepted);
        payload[len] = 0;
        switch (head[0]) {
        case 'C':
            if (!accepted) go_cold(0);
            break;
        case 'A':
            accepted = 1;
            break;
        case 'O':
        case 'E':
            // a caller that closed its stdout loses the text, as node's would
            (void)write_full(head[0] == 'O' ? 1 : 2, payload, len);
            break;
        case 'F':
            fork_executor(s, payload, len, &executor, &channel);
            break;
        case 'S': {
            // the signals node's SignalForwarder forwards (src/runtime/foreground.ts)
            static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};
            for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) sigaddset(&chld, forwarded[i]);
            sigprocmask(SIG_BLOCK, &chld, NULL);
            if (signalfd(sfd, &chld, 0) < 0) go_cold(accepted);
            break;
        }
        case 'K':
            if (channel >= 0) close(channel);
            channel = -1;
            break;
        case 'X': {
            uint32_t code = 1;
            if (len >= 4) memcpy(&code, payload, 4);
            exit((int)code);
        }
        default:
            go_cold(accepted);
        }
    }
}
