// What the daemon needs of a unix socket and a process that node does not offer: the peer's
// credentials (SO_PEERCRED), a copy of another process's fd (pidfd_getfd) and flock(2).
import { closeSync } from 'node:fs';
import { lastErrno, libcFunction, systemError } from './libc.ts';
import { pidfdOpen } from './pidfd.ts';

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

/** SO_PEERCRED of a connected unix socket: who connected (pid as seen from this pid namespace). */
export async function peerCred(fd: number): Promise<PeerCred> {
  const fn = await libcFunction('int getsockopt(int fd, int level, int name, _Out_ uint8_t *val, _Inout_ uint32_t *len)');
  const buf = Buffer.alloc(12);
  const len = new Uint32Array([12]);
  if ((fn(fd, SOL_SOCKET, SO_PEERCRED, buf, len) as number) < 0) throw systemError('getsockopt SO_PEERCRED', lastErrno());
  return { pid: buf.readInt32LE(0), uid: buf.readUInt32LE(4), gid: buf.readUInt32LE(8) };
}

/** A copy (close-on-exec) of fd `target` of process `pid` (pidfd_getfd(2): same uid, ptrace rights). */
export async function takeFd(pid: number, target: number): Promise<number> {
  const fn = await libcFunction('int pidfd_getfd(int pidfd, int targetfd, unsigned int flags)');
  const pidfd = await pidfdOpen(pid);
  try {
    const fd = fn(pidfd, target, 0) as number;
    if (fd < 0) throw systemError('pidfd_getfd', lastErrno());
    return fd;
  } finally {
    closeSync(pidfd);
  }
}

export const LOCK_EX = 2;
export const LOCK_NB = 4;

/** flock(2); false when LOCK_NB was given and another holds it. */
export async function flock(fd: number, op: number): Promise<boolean> {
  const fn = await libcFunction('int flock(int fd, int op)');
  if ((fn(fd, op) as number) === 0) return true;
  const errno = lastErrno();
  if (errno === 11) return false; // EWOULDBLOCK
  throw systemError('flock', errno);
}
