// Console sockets and pty masters through libc (koffi):
//   - an AF_UNIX SOCK_STREAM listening socket that receives a pty master the way runc's console
//     socket protocol sends it (one message: payload = the pty's name, one SCM_RIGHTS fd);
//   - raw mode (cfmakeraw), the window size (TIOCGWINSZ/TIOCSWINSZ), O_NONBLOCK and dup of a terminal fd.
// Every call here is non-blocking: accept and recvmsg answer `undefined` instead of waiting.
// Layouts and numbers are Linux's on 64-bit x86 and arm64 (the architectures koffi runs hako on).
import { closeSync } from 'node:fs';
import { AF_UNIX, SOCK_CLOEXEC, SOCK_STREAM, lastErrno, libcFunction, loadKoffi, systemError } from './libc.ts';

export const SOCK_NONBLOCK = 0o4000;
const EAGAIN = 11;
const EINTR = 4;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_DONTWAIT = 0x40;
const MSG_CTRUNC = 0x8;
const MSG_CMSG_CLOEXEC = 0x40000000;
const TIOCGWINSZ = 0x5413;
const TIOCSWINSZ = 0x5414;
const F_GETFL = 3;
const F_SETFL = 4;
const F_DUPFD_CLOEXEC = 1030;
const O_NONBLOCK = 0o4000;
const TCSANOW = 0;
/** sizeof(struct termios) is 60 in glibc; room to spare. */
const TERMIOS_SIZE = 64;
/** sizeof(sockaddr_un.sun_path), NUL included. */
const SUN_PATH = 108;

export interface WindowSize {
  rows: number;
  cols: number;
  /** pixels, usually 0 */
  xpixel: number;
  ypixel: number;
}

/** socket + bind + listen: a non-blocking, close-on-exec AF_UNIX stream socket listening at `path`. */
export async function listenUnix(path: string, backlog = 4): Promise<number> {
  const name = Buffer.from(path);
  if (name.length >= SUN_PATH) throw systemError(`bind ${path}`, 36); // ENAMETOOLONG
  const socket = await libcFunction('int socket(int domain, int type, int protocol)');
  const bind = await libcFunction('int bind(int fd, const void *addr, uint32_t len)');
  const listen = await libcFunction('int listen(int fd, int backlog)');
  const fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0) as number;
  if (fd < 0) throw systemError('socket', lastErrno());
  try {
    const addr = Buffer.alloc(2 + name.length + 1);
    addr.writeUInt16LE(AF_UNIX, 0);
    name.copy(addr, 2);
    if ((bind(fd, addr, addr.length) as number) < 0) throw systemError(`bind ${path}`, lastErrno());
    if ((listen(fd, backlog) as number) < 0) throw systemError('listen', lastErrno());
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/** accept4 on a non-blocking listening socket: the connection (close-on-exec), or undefined if none is waiting. */
export async function acceptNow(listenFd: number): Promise<number | undefined> {
  const accept4 = await libcFunction('int accept4(int fd, void *addr, void *addrlen, int flags)');
  for (;;) {
    const fd = accept4(listenFd, null, null, SOCK_CLOEXEC) as number;
    if (fd >= 0) return fd;
    const errno = lastErrno();
    if (errno === EINTR) continue;
    if (errno === EAGAIN) return undefined;
    throw systemError('accept4', errno);
  }
}

export interface ReceivedFd {
  /** the received fd, close-on-exec */
  fd: number;
  /** the message's payload (runc's protocol: the pty's name) */
  name: string;
}

// struct msghdr (56 bytes) | struct iovec (16) | control (room for 8 fds) | payload
const MSGHDR = 0;
const IOVEC = 56;
const CONTROL = 72;
const CONTROL_LEN = 16 + 8 * 4; // CMSG_SPACE(8 * sizeof(int))
const PAYLOAD = CONTROL + CONTROL_LEN;
const PAYLOAD_LEN = 4096;

/**
 * One recvmsg(MSG_DONTWAIT) on a connected stream socket that carries one fd by SCM_RIGHTS.
 * undefined: nothing has arrived yet. Throws when the peer closed without sending, or sent no fd
 * (any fd that did arrive is closed first).
 */
export async function receiveFd(sock: number): Promise<ReceivedFd | undefined> {
  const koffi = await loadKoffi();
  if (koffi.sizeof('void *') !== 8) throw new Error('receiveFd: only 64-bit platforms are supported');
  const recvmsg = await libcFunction('intptr_t recvmsg(int fd, void *msg, int flags)');
  const total = PAYLOAD + PAYLOAD_LEN;
  const mem = koffi.alloc('uint8_t', total);
  try {
    const base = BigInt(koffi.address(mem));
    const view = Buffer.from(koffi.view(mem, total));
    view.fill(0);
    view.writeBigUInt64LE(base + BigInt(IOVEC), MSGHDR + 16); // msg_iov
    view.writeBigUInt64LE(1n, MSGHDR + 24); // msg_iovlen
    view.writeBigUInt64LE(base + BigInt(CONTROL), MSGHDR + 32); // msg_control
    view.writeBigUInt64LE(BigInt(CONTROL_LEN), MSGHDR + 40); // msg_controllen
    view.writeBigUInt64LE(base + BigInt(PAYLOAD), IOVEC); // iov_base
    view.writeBigUInt64LE(BigInt(PAYLOAD_LEN), IOVEC + 8); // iov_len
    let n: number;
    for (;;) {
      n = Number(recvmsg(sock, mem, MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
      if (n >= 0) break;
      const errno = lastErrno();
      if (errno === EINTR) continue;
      if (errno === EAGAIN) return undefined;
      throw systemError('recvmsg', errno);
    }
    const fds: number[] = [];
    const controlLen = Number(view.readBigUInt64LE(MSGHDR + 40));
    for (let off = 0; off + 16 <= controlLen; ) {
      const len = Number(view.readBigUInt64LE(CONTROL + off));
      if (len < 16) break;
      const level = view.readInt32LE(CONTROL + off + 8);
      const type = view.readInt32LE(CONTROL + off + 12);
      if (level === SOL_SOCKET && type === SCM_RIGHTS) {
        for (let i = 16; i + 4 <= len; i += 4) fds.push(view.readInt32LE(CONTROL + off + i));
      }
      off += (len + 7) & ~7; // CMSG_ALIGN
    }
    const flags = view.readInt32LE(MSGHDR + 48);
    const name = view.subarray(PAYLOAD, PAYLOAD + n).toString('utf8');
    const [fd, ...extra] = fds;
    for (const e of extra) closeSync(e);
    if (fd === undefined) {
      if (n === 0) throw new Error('the peer closed the connection without sending a file descriptor');
      throw new Error(`received ${n} bytes but no file descriptor${flags & MSG_CTRUNC ? ' (control data truncated)' : ''}`);
    }
    return { fd, name };
  } finally {
    koffi.free(mem);
  }
}

async function ioctlFunction() {
  return libcFunction('int ioctl(int fd, unsigned long request, ...)');
}

/** TIOCGWINSZ: the terminal's size, or undefined when `fd` is not a terminal. */
export async function getWindowSize(fd: number): Promise<WindowSize | undefined> {
  const ioctl = await ioctlFunction();
  const ws = Buffer.alloc(8);
  if ((ioctl(fd, TIOCGWINSZ, 'void *', ws) as number) < 0) return undefined;
  return { rows: ws.readUInt16LE(0), cols: ws.readUInt16LE(2), xpixel: ws.readUInt16LE(4), ypixel: ws.readUInt16LE(6) };
}

/** TIOCSWINSZ: sets a terminal's size (on a pty master: the kernel signals SIGWINCH to the slave's foreground group). */
export async function setWindowSize(fd: number, size: WindowSize): Promise<void> {
  const ioctl = await ioctlFunction();
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(size.rows, 0);
  ws.writeUInt16LE(size.cols, 2);
  ws.writeUInt16LE(size.xpixel, 4);
  ws.writeUInt16LE(size.ypixel, 6);
  if ((ioctl(fd, TIOCSWINSZ, 'void *', ws) as number) < 0) throw systemError('ioctl(TIOCSWINSZ)', lastErrno());
}

/**
 * Puts the terminal behind `fd` in raw mode (cfmakeraw) and returns what puts it back (synchronous,
 * safe to call more than once), or undefined when `fd` is not a terminal.
 */
export async function makeRaw(fd: number): Promise<(() => void) | undefined> {
  const tcgetattr = await libcFunction('int tcgetattr(int fd, void *termios)');
  const tcsetattr = await libcFunction('int tcsetattr(int fd, int action, const void *termios)');
  const cfmakeraw = await libcFunction('void cfmakeraw(void *termios)');
  const saved = Buffer.alloc(TERMIOS_SIZE);
  if ((tcgetattr(fd, saved) as number) < 0) return undefined;
  const raw = Buffer.from(saved);
  cfmakeraw(raw);
  if ((tcsetattr(fd, TCSANOW, raw) as number) < 0) throw systemError('tcsetattr', lastErrno());
  return () => {
    tcsetattr(fd, TCSANOW, saved);
  };
}

/** fcntl(F_DUPFD_CLOEXEC): a second fd (≥ 3, close-on-exec) for the same open file description. */
export async function duplicateFd(fd: number): Promise<number> {
  const fcntl = await libcFunction('int fcntl(int fd, int cmd, ...)');
  const dup = fcntl(fd, F_DUPFD_CLOEXEC, 'int', 3) as number;
  if (dup < 0) throw systemError('fcntl(F_DUPFD_CLOEXEC)', lastErrno());
  return dup;
}

/** Sets O_NONBLOCK on the fd's open file description. */
export async function setNonBlocking(fd: number): Promise<void> {
  const fcntl = await libcFunction('int fcntl(int fd, int cmd, ...)');
  const flags = fcntl(fd, F_GETFL) as number;
  if (flags < 0) throw systemError('fcntl(F_GETFL)', lastErrno());
  if ((fcntl(fd, F_SETFL, 'int', flags | O_NONBLOCK) as number) < 0) throw systemError('fcntl(F_SETFL)', lastErrno());
}
