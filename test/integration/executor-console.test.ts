// The console socket protocol as runc speaks it (root): the init opens a pty inside the container
// and sends the master over --console-socket in one sendmsg (payload: the master's path, one
// SCM_RIGHTS fd). Node can't receive SCM_RIGHTS, so a tiny C receiver is built here.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupBundles, isRoot, makeBundle, run } from './executor-harness.ts';

afterEach(() => {
  expect(cleanupBundles()).toEqual([]);
});

const RECEIVER = String.raw`
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
int main(int argc, char **argv) {
	if (argc != 3) return 2;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
	if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 1)) return 3;
	FILE *out = fopen(argv[2], "w");
	int c = accept(s, NULL, NULL);
	char name[4096], ctl[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = { name, sizeof name - 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl };
	ssize_t n = recvmsg(c, &m, 0);
	if (n < 0) return 4;
	name[n] = 0;
	int nfds = 0, master = -1;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
			nfds += (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(&master, CMSG_DATA(h), sizeof(int));
		}
	char more;
	ssize_t extra = recv(c, &more, 1, MSG_DONTWAIT);
	struct winsize ws = { 0 };
	ioctl(master, TIOCGWINSZ, &ws);
	fprintf(out, "name=%s fds=%d messages=%s rows=%d cols=%d\n", name, nfds, extra > 0 ? "more" : "one", ws.ws_row, ws.ws_col);
	fflush(out);
	char buf[4096];
	while ((n = read(master, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, out);
	fclose(out);
	return 0;
}
`;

describe.skipIf(!isRoot)('executor: terminal and console socket', () => {
  it('sends the pty master as runc does; the slave is stdio, controlling tty and /dev/console', async () => {
    const b = makeBundle(['sh', '-c', 'tty; stty size; ls -l /dev/console | cut -c1; cat /proc/self/stat | cut -d" " -f7']);
    b.spec.process!.terminal = true;
    b.spec.process!.consoleSize = { height: 30, width: 100 };
    writeFileSync(join(b.dir, 'recv.c'), RECEIVER);
    execFileSync('cc', ['-o', join(b.dir, 'recv'), join(b.dir, 'recv.c')]);
    const sock = join(b.dir, 'console.sock');
    const out = join(b.dir, 'console.out');
    const receiver = spawn(join(b.dir, 'recv'), [sock, out], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => receiver.once('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 500 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 2));
      const r = await run(b, { ctx: { consoleSocket: sock } });
      expect(r.exit.code).toBe(0);
      expect(await exited).toBe(0);
    } finally {
      receiver.kill('SIGKILL');
    }
    const lines = readFileSync(out, 'utf8').split(/\r?\n/);
    expect(lines[0]).toBe('name=/dev/ptmx fds=1 messages=one rows=30 cols=100');
    expect(lines[1]).toMatch(/^\/dev\/pts\/\d+$/);
    expect(lines[2]).toBe('30 100');
    expect(lines[3]).toBe('c'); // /dev/console: the slave, bound
    // tty_nr of the shell: a pts device (major 136), i.e. it has a controlling terminal
    expect(Number(lines[4]) >> 8).toBe(136);
  });

  it('a terminal without a console socket is refused at compile time', async () => {
    const b = makeBundle(['true']);
    b.spec.process!.terminal = true;
    await expect(run(b)).rejects.toThrow('process.terminal: a console socket is needed');
  });
});
