// libseccomp through koffi: builds a SeccompProgram (src/plan/seccomp.ts) into classic BPF bytes.
// The executor never links libseccomp: it gets the bytes in the plan and only calls seccomp(2).
// Loaded on first use (Debian: libseccomp2); a missing library is an error naming the package.
import { closeSync, fstatSync, readSync } from 'node:fs';
import type { LibraryHandle } from 'koffi';
import { HakoError } from '../errors.ts';
import { libseccompArchName, SCMP_ACT, SCMP_CMP, SECCOMP_FILTER_FLAG, type SeccompProgram } from '../plan/seccomp.ts';
import type { LinuxSeccompAction, LinuxSeccompArch, LinuxSeccompFlag, LinuxSeccompOperator, SeccompFeatures } from '../spec/types.ts';
import { errnoName, lastErrno, libcFunction, loadKoffi, type KoffiFunction } from './libc.ts';

interface Libseccomp {
  init: KoffiFunction;
  archAdd: KoffiFunction;
  archResolve: KoffiFunction;
  syscallResolve: KoffiFunction;
  ruleAdd: KoffiFunction;
  exportBpf: KoffiFunction;
  release: KoffiFunction;
  version: () => { major: number; minor: number; micro: number };
  apiLevel: () => number;
}

let lib: Libseccomp | undefined;

const LIBRARY = 'libseccomp.so.2';

export async function libseccomp(): Promise<Libseccomp> {
  if (lib) return lib;
  const koffi = await loadKoffi();
  let handle: LibraryHandle;
  try {
    handle = koffi.load(LIBRARY);
  } catch (err) {
    throw new HakoError(`linux.seccomp: ${LIBRARY} cannot be loaded (install libseccomp2: apt-get install libseccomp2): ${(err as Error).message}`);
  }
  const version = koffi.struct('hako_scmp_version', { major: 'uint', minor: 'uint', micro: 'uint' });
  const versionFn = handle.func('const hako_scmp_version *seccomp_version(void)');
  lib = {
    init: handle.func('void *seccomp_init(uint32_t def_action)'),
    archAdd: handle.func('int seccomp_arch_add(void *ctx, uint32_t arch_token)'),
    archResolve: handle.func('uint32_t seccomp_arch_resolve_name(const char *arch_name)'),
    syscallResolve: handle.func('int seccomp_syscall_resolve_name(const char *name)'),
    ruleAdd: handle.func('int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt, const void *arg_array)'),
    exportBpf: handle.func('int seccomp_export_bpf(void *ctx, int fd)'),
    release: handle.func('void seccomp_release(void *ctx)'),
    version: () => koffi.decode(versionFn(), version) as { major: number; minor: number; micro: number },
    apiLevel: handle.func('unsigned int seccomp_api_get(void)') as () => number,
  };
  return lib;
}

export async function libseccompVersion(): Promise<string> {
  const v = (await libseccomp()).version();
  return `${v.major}.${v.minor}.${v.micro}`;
}

/** struct scmp_arg_cmp { unsigned int arg; enum scmp_compare op; uint64 datum_a, datum_b; } */
function conditionArray(conditions: SeccompProgram['rules'][number]['conditions']): Buffer {
  const buf = Buffer.alloc(24 * Math.max(1, conditions.length));
  conditions.forEach((c, i) => {
    buf.writeUInt32LE(c.index, 24 * i);
    buf.writeUInt32LE(c.op, 24 * i + 4);
    buf.writeBigUInt64LE(c.a, 24 * i + 8);
    buf.writeBigUInt64LE(c.b, 24 * i + 16);
  });
  return buf;
}

const failed = (what: string, rc: number) => `${what}: ${errnoName(-rc).text}`;

export interface BuiltFilter {
  /** classic BPF: struct sock_filter[] */
  bpf: Buffer;
  /** rules left out: syscall names this libseccomp does not know, rules it refused as colliding (field: name) */
  skipped: string[];
}

/** Builds the filter with libseccomp and exports its BPF. Errors name the config field. */
export async function buildSeccompFilter(program: SeccompProgram): Promise<BuiltFilter> {
  const l = await libseccomp();
  const ctx = l.init(program.defaultAction);
  if (!ctx) throw new HakoError('config.json: linux.seccomp.defaultAction: seccomp_init failed');
  const skipped: string[] = [];
  try {
    for (const arch of program.architectures) {
      const token = l.archResolve(arch.name) as number;
      if (!token) throw new HakoError(`config.json: ${arch.field}: ${arch.name} is not known to libseccomp ${await libseccompVersion()}`);
      const rc = l.archAdd(ctx, token) as number;
      if (rc < 0 && rc !== -17) throw new HakoError(`config.json: ${arch.field}: ${failed('seccomp_arch_add', rc)}`); // EEXIST: the native one
    }
    const numbers = new Map<string, number>();
    for (const rule of program.rules) {
      let nr = numbers.get(rule.syscall);
      if (nr === undefined) numbers.set(rule.syscall, (nr = l.syscallResolve(rule.syscall) as number));
      if (nr < 0) {
        // docker's and podman's profiles list system calls newer than some libseccomp builds
        skipped.push(`${rule.field}: ${rule.syscall}`);
        continue;
      }
      const rc = l.ruleAdd(ctx, rule.action, nr, rule.conditions.length, conditionArray(rule.conditions)) as number;
      if (rc === -17) {
        // EEXIST: on a sub-architecture (x86's socketcall, say) the rule collides with an earlier
        // one and libseccomp drops it whole; runc goes on without it too (podman's socket rules
        // without CAP_AUDIT_WRITE do this on x86_64 with x86 and x32).
        skipped.push(`${rule.field}: ${rule.syscall} (collides with an earlier rule on a sub-architecture)`);
        continue;
      }
      if (rc < 0) throw new HakoError(`config.json: ${rule.field}: ${rule.syscall}: ${failed('seccomp_rule_add', rc)}`);
    }
    return { bpf: await exportBpf(l, ctx), skipped };
  } finally {
    l.release(ctx);
  }
}

async function exportBpf(l: Libseccomp, ctx: unknown): Promise<Buffer> {
  const memfdCreate = await libcFunction('int memfd_create(const char *name, unsigned int flags)');
  const fd = memfdCreate('hako-seccomp-bpf', 1 /* MFD_CLOEXEC */) as number;
  if (fd < 0) throw new HakoError(`linux.seccomp: memfd_create: ${errnoName(lastErrno()).text}`);
  try {
    const rc = l.exportBpf(ctx, fd) as number;
    if (rc < 0) throw new HakoError(`linux.seccomp: ${failed('seccomp_export_bpf', rc)}`);
    const size = fstatSync(fd).size;
    const bpf = Buffer.alloc(size);
    let off = 0;
    while (off < size) off += readSync(fd, bpf, off, size - off, off);
    return bpf;
  } finally {
    closeSync(fd);
  }
}

const SYS_SECCOMP: Partial<Record<string, number>> = { x64: 317, arm64: 277 };
const SECCOMP_SET_MODE_FILTER = 1;
const EFAULT = 14;

/**
 * linux.seccomp of `hako features`: the actions, operators and architectures this libseccomp knows,
 * and the filter flags
 * the kernel takes (asked as runc does: seccomp(SET_MODE_FILTER, flag, NULL) fails with EFAULT
 * for a known flag, EINVAL for an unknown one).
 */
export async function seccompFeatures(): Promise<SeccompFeatures> {
  let l: Libseccomp;
  try {
    l = await libseccomp();
  } catch {
    return { enabled: false };
  }
  const api = l.apiLevel();
  const actions = (Object.keys(SCMP_ACT) as LinuxSeccompAction[]).filter((a) => {
    if (a === 'SCMP_ACT_NOTIFY') return api >= 6; // libseccomp's level for user notification
    if (a === 'SCMP_ACT_KILL_PROCESS' || a === 'SCMP_ACT_LOG') return api >= 3;
    return true;
  });
  const archs = ARCHITECTURES.filter((a) => (l.archResolve(libseccompArchName(a)) as number) !== 0);
  const knownFlags = Object.keys(SECCOMP_FILTER_FLAG) as LinuxSeccompFlag[];
  const nr = SYS_SECCOMP[process.arch];
  let supportedFlags: LinuxSeccompFlag[] = [];
  if (nr !== undefined) {
    const syscall = await libcFunction('long syscall(long number, ...)');
    supportedFlags = knownFlags.filter((f) => {
      const rc = syscall(nr, 'uint', SECCOMP_SET_MODE_FILTER, 'uint', SECCOMP_FILTER_FLAG[f], 'void *', null) as number;
      return rc < 0 && lastErrno() === EFAULT;
    });
  }
  return { enabled: true, actions, operators: Object.keys(SCMP_CMP) as LinuxSeccompOperator[], archs, knownFlags, supportedFlags };
}

const ARCHITECTURES: LinuxSeccompArch[] = [
  'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K',
  'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
];
