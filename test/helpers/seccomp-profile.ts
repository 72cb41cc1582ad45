// containers-common's seccomp.json (podman's default profile, /usr/share/containers/seccomp.json)
// turned into the linux.seccomp podman writes into config.json: entries kept or dropped by their
// includes/excludes (architecture, the container's capabilities, minimum kernel), the native
// architecture with its sub-architectures from archMap.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import type { LinuxSeccomp, LinuxSyscall } from '../../src/spec/types.ts';

export const PODMAN_PROFILE = '/usr/share/containers/seccomp.json';

interface Filter {
  arches?: string[];
  caps?: string[];
  minKernel?: string;
}
interface Entry extends LinuxSyscall {
  includes?: Filter;
  excludes?: Filter;
}
interface Profile {
  defaultAction: LinuxSeccomp['defaultAction'];
  defaultErrnoRet?: number;
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  syscalls: Entry[];
}

const GO_ARCH: Partial<Record<string, string>> = { x64: 'amd64', arm64: 'arm64' };
const SCMP_ARCH: Partial<Record<string, string>> = { x64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64' };

function kernelAtLeast(min: string): boolean {
  const [a, b] = release().split('.').map(Number);
  const [c, d] = min.split('.').map(Number);
  return a! > c! || (a === c && b! >= d!);
}

export function ociProfile(file: string, caps: readonly string[]): LinuxSeccomp {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const arch = GO_ARCH[process.arch]!;
  const applies = (e: Entry) => {
    const inc = e.includes ?? {};
    const exc = e.excludes ?? {};
    if (inc.arches?.length && !inc.arches.includes(arch)) return false;
    if (inc.caps?.length && !inc.caps.every((c) => caps.includes(c))) return false;
    if (inc.minKernel && !kernelAtLeast(inc.minKernel)) return false;
    if (exc.arches?.includes(arch)) return false;
    if (exc.caps?.some((c) => caps.includes(c))) return false;
    return true;
  };
  const native = p.archMap?.find((m) => m.architecture === SCMP_ARCH[process.arch]);
  return {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet === undefined ? {} : { defaultErrnoRet: p.defaultErrnoRet }),
    architectures: native ? ([native.architecture, ...(native.subArchitectures ?? [])] as LinuxSeccomp['architectures']) : undefined,
    syscalls: p.syscalls.filter(applies).map((e) => ({
      names: e.names,
      action: e.action,
      ...(e.errnoRet === undefined ? {} : { errnoRet: e.errnoRet }),
      ...(e.args?.length ? { args: e.args } : {}),
    })),
  };
}
