// One koffi handle to libc, loaded on first use (importing koffi costs ~10 ms: never at module top
// level). Bindings are declared with their C prototype and made once:
//
//   const pidfdOpen = await libcFunction('int pidfd_open(int pid, unsigned int flags)');
//   const fd = pidfdOpen(pid, 0) as number;
//   if (fd < 0) throw systemError('pidfd_open', lastErrno());
//
// lastErrno() is koffi's saved errno of the last call on this thread: read it right after the call.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { getSystemErrorMap } from 'node:util';
import type { LibraryHandle } from 'koffi';

type Koffi = typeof import('koffi');
/** A bound libc function (koffi converts arguments and the result). */
export type KoffiFunction = ReturnType<LibraryHandle['func']>;

let loading: Promise<{ koffi: Koffi; lib: LibraryHandle }> | undefined;
let koffiModule: Koffi | undefined;
const functions = new Map<string, KoffiFunction>();

const MUSL_LOADER: Partial<Record<string, string>> = { x64: '/lib/ld-musl-x86_64.so.1', arm64: '/lib/ld-musl-aarch64.so.1' };

/**
 * koffi's own entry point spends ~4 ms working out which of its addons fits this platform; on a
 * glibc Linux host the addon's place in its platform package is known, and requiring it directly
 * takes ~1 ms (it exports the same API). Anywhere else, koffi's entry point decides.
 */
function requireKoffiAddon(): Koffi | undefined {
  const musl = MUSL_LOADER[process.arch];
  if (musl === undefined || existsSync(musl)) return undefined;
  try {
    const req = createRequire(import.meta.url);
    const pkg = req.resolve(`@koromix/koffi-linux-${process.arch}/package.json`);
    return req(join(dirname(pkg), `linux_${process.arch}`, 'koffi.node')) as Koffi;
  } catch {
    return undefined;
  }
}

async function load(): Promise<{ koffi: Koffi; lib: LibraryHandle }> {
  loading ??= (async () => {
    let koffi = requireKoffiAddon();
    if (!koffi) {
      const mod = (await import('koffi')) as Koffi & { default?: Koffi };
      koffi = mod.default ?? mod;
    }
    koffiModule = koffi;
    return { koffi, lib: koffi.load('libc.so.6') };
  })();
  return loading;
}

/** A libc function from its C prototype (koffi syntax: `_Out_ int *sv` for out-pointers). */
export async function libcFunction(prototype: string): Promise<KoffiFunction> {
  let fn = functions.get(prototype);
  if (!fn) {
    const { lib } = await load();
    fn = lib.func(prototype);
    functions.set(prototype, fn);
  }
  return fn;
}

/** The koffi module itself (koffi.alloc/view/address for memory the kernel fills), loaded with libc. */
export async function loadKoffi(): Promise<Koffi> {
  return (await load()).koffi;
}

/** errno of the last libc call made through koffi. */
export function lastErrno(): number {
  if (!koffiModule) throw new Error('libc: no call made yet');
  return koffiModule.errno();
}

/** Linux errnos node's (libuv's) table lacks, with glibc's strerror text in lower case. */
const MORE_ERRNOS: Readonly<Record<number, [string, string]>> = {
  8: ['ENOEXEC', 'exec format error'],
  10: ['ECHILD', 'no child processes'],
  33: ['EDOM', 'numerical argument out of domain'],
  35: ['EDEADLK', 'resource deadlock avoided'],
  37: ['ENOLCK', 'no locks available'],
  42: ['ENOMSG', 'no message of desired type'],
  43: ['EIDRM', 'identifier removed'],
  74: ['EBADMSG', 'bad message'],
  115: ['EINPROGRESS', 'operation now in progress'],
  116: ['ESTALE', 'stale file handle'],
  122: ['EDQUOT', 'disk quota exceeded'],
};

/** `EINVAL`, `invalid argument` for an errno number (node's own table). */
export function errnoName(errno: number): { code: string; text: string } {
  const entry = getSystemErrorMap().get(-errno) ?? MORE_ERRNOS[errno];
  return entry ? { code: entry[0], text: entry[1] } : { code: `E${errno}`, text: `errno ${errno}` };
}

/** An Error like node's system errors: message `<call>: <text>`, with code and errno. */
export function systemError(call: string, errno: number): NodeJS.ErrnoException {
  const { code, text } = errnoName(errno);
  const err = new Error(`${call}: ${text}`) as NodeJS.ErrnoException;
  err.code = code;
  err.errno = errno;
  err.syscall = call;
  return err;
}

export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SOCK_SEQPACKET = 5;
export const SOCK_CLOEXEC = 0x80000;

/** socketpair(2): two connected sockets. Pass SOCK_CLOEXEC in `type` unless a child must inherit them. */
export async function socketpair(domain: number, type: number, protocol = 0): Promise<[number, number]> {
  const fn = await libcFunction('int socketpair(int domain, int type, int protocol, _Out_ int *sv)');
  const sv = new Int32Array(2);
  if ((fn(domain, type, protocol, sv) as number) < 0) throw systemError('socketpair', lastErrno());
  return [sv[0]!, sv[1]!];
}

/** umount2(2). */
export async function umount2(target: string, flags: number): Promise<void> {
  const fn = await libcFunction('int umount2(const char *target, int flags)');
  if ((fn(target, flags) as number) < 0) throw systemError('umount2', lastErrno());
}
