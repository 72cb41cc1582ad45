// Test bundles: a busybox-static + probe rootfs built once per run (the template), then copied per case
// with the two big binaries hard-linked, so a bundle costs a few small file copies.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONFORMANCE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PROBE_SRC = join(CONFORMANCE_DIR, 'probe');
export const PROBE_BIN = join(CONFORMANCE_DIR, 'build', 'probe');
export const BUSYBOX = '/bin/busybox';

/** busybox applets linked into every rootfs (enough for hooks, sh -c and manual debugging). */
const APPLETS = [
  'sh', 'ls', 'cat', 'echo', 'sleep', 'true', 'false', 'id', 'mount', 'ps', 'kill', 'mkdir', 'touch', 'env',
  'hostname', 'stat', 'test', 'grep', 'wc', 'head', 'readlink', 'ln', 'rm', 'pwd', 'umask',
];

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/:/bin/sh',
  'tester:x:1000:1000:tester:/home/tester:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  '',
].join('\n');

const GROUP = ['root:x:0:', 'daemon:x:1:', 'tty:x:5:', 'tester:x:1000:', 'extra:x:2000:tester', 'nogroup:x:65534:', ''].join(
  '\n',
);

/** Compiles the probe when it is missing or older than its sources (same flags as scripts/build-native.mjs). */
export function ensureProbe(): void {
  const sources = readdirSync(PROBE_SRC).filter((f) => f.endsWith('.c') || f.endsWith('.h'));
  const newest = Math.max(...sources.map((f) => statSync(join(PROBE_SRC, f)).mtimeMs));
  if (existsSync(PROBE_BIN) && statSync(PROBE_BIN).mtimeMs >= newest) return;
  mkdirSync(dirname(PROBE_BIN), { recursive: true });
  const cc = process.env.CC ?? 'cc';
  const cfiles = sources.filter((f) => f.endsWith('.c')).map((f) => join(PROBE_SRC, f));
  execFileSync(cc, ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-O2', '-static', '-o', PROBE_BIN, ...cfiles], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/** Builds the rootfs template at `dir` (the runner calls this once per run). */
export function buildTemplate(dir: string): void {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing (install busybox-static)`);
  mkdirSync(dir, { recursive: true });
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'mnt', 'run', 'var', 'home/tester']) {
    mkdirSync(join(dir, d), { recursive: true });
  }
  chmodSync(join(dir, 'tmp'), 0o1777);
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  copyFileSync(PROBE_BIN, join(dir, 'bin/probe'));
  chmodSync(join(dir, 'bin/probe'), 0o755);
  for (const a of APPLETS) symlinkSync('busybox', join(dir, 'bin', a));
  writeFileSync(join(dir, 'etc/passwd'), PASSWD);
  writeFileSync(join(dir, 'etc/group'), GROUP);
  writeFileSync(join(dir, 'etc/hostname'), 'template\n');
}

/** Copies a tree: directories and small files copied, large files hard-linked, symlinks recreated. */
export function copyTree(src: string, dst: string): void {
  const st = lstatSync(src);
  mkdirSync(dst, { mode: st.mode & 0o7777 });
  chmodSync(dst, st.mode & 0o7777);
  for (const name of readdirSync(src)) {
    const s = join(src, name);
    const d = join(dst, name);
    const ls = lstatSync(s);
    if (ls.isDirectory()) copyTree(s, d);
    else if (ls.isSymbolicLink()) symlinkSync(readlinkSync(s), d);
    else if (ls.size > 65536) linkSync(s, d);
    else {
      copyFileSync(s, d);
      chmodSync(d, ls.mode & 0o7777);
    }
  }
}
