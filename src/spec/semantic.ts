// Checks on a schema-valid config.json that a JSON Schema cannot express: the MUSTs of config.md and
// config-linux.md that relate fields to each other or to the host, and the few rules runc enforces
// that clients rely on. Every finding is collected; the caller throws them together.
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { describeSystemError } from '../errors.ts';
import { CAPABILITIES, RLIMITS } from './capabilities.ts';
import { fieldPath, problem } from './messages.ts';
import type { LinuxIDMapping, Spec } from './types.ts';

export interface SemanticOptions {
  /** `create`/`run` need a process to start; default true. */
  requireProcess?: boolean;
  /** Where problem lines say they come from; default `config.json`. */
  source?: string;
}

const CAP_SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;
const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
const ERRNO_ACTIONS = new Set(['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE']);

/** Problem lines for `spec` (already valid against the config schema) in the bundle `bundleDir`. */
export function semanticProblems(spec: Spec, bundleDir: string, options: SemanticOptions = {}): string[] {
  const source = options.source ?? 'config.json';
  const out: string[] = [];
  const add = (segments: (string | number)[], words: string) => out.push(problem(source, fieldPath(segments), words));

  // config.md: annotation keys MUST NOT be an empty string.
  if (spec.annotations && Object.hasOwn(spec.annotations, '')) add(['annotations'], 'keys must not be empty');

  // root: REQUIRED on every platform but Windows; a directory, absolute or relative to the bundle.
  if (spec.root === undefined) {
    add(['root'], 'is required');
  } else {
    const path = resolve(bundleDir, spec.root.path);
    try {
      if (!statSync(path).isDirectory()) add(['root', 'path'], `${path}: not a directory`);
      // runc: "not an absolute path, or a symlink". A symlinked rootfs (or a link on its way from
      // the bundle) could be pointed elsewhere between this check and its use; the executor also
      // refuses a last component that became a symlink since.
      else if (realpathSync(path) !== (isAbsolute(spec.root.path) ? path : resolve(realpathSync(bundleDir), spec.root.path))) {
        add(['root', 'path'], `${path}: is a symlink (or goes through one); give the real path`);
      }
    } catch (err) {
      add(['root', 'path'], `${path}: ${describeSystemError(err)}`);
    }
  }

  sysctlProblems(spec).forEach(([key, words]) => add(['linux', 'sysctl', key], words));

  const proc = spec.process;
  if (proc === undefined) {
    if (options.requireProcess ?? true) add(['process'], 'is required to create a container');
  } else {
    if (proc.args === undefined || proc.args.length === 0) add(['process', 'args'], 'must be a non-empty array');
    // config.md (POSIX-platform User): uid and gid are REQUIRED. `user` itself is not in the list of
    // required process fields (runc runs as 0:0 without it).
    for (const id of ['uid', 'gid'] as const) {
      if (proc.user !== undefined && proc.user[id] === undefined) add(['process', 'user', id], 'is required');
    }
    if (!isAbsolute(proc.cwd)) add(['process', 'cwd'], 'must be an absolute path');
    for (const set of CAP_SETS) {
      proc.capabilities?.[set]?.forEach((name, i) => {
        if (!Object.hasOwn(CAPABILITIES, name)) add(['process', 'capabilities', set, i], `unknown capability ${JSON.stringify(name)}`);
      });
    }
    const seen = new Map<string, number>();
    proc.rlimits?.forEach((r, i) => {
      if (!Object.hasOwn(RLIMITS, r.type)) add(['process', 'rlimits', i, 'type'], `unknown resource limit ${JSON.stringify(r.type)}`);
      const first = seen.get(r.type);
      if (first !== undefined) add(['process', 'rlimits', i, 'type'], `${r.type} is already set by process.rlimits[${first}]`);
      else seen.set(r.type, i);
      if (r.soft > r.hard) add(['process', 'rlimits', i, 'soft'], `must not be greater than hard (${r.hard})`);
    });
  }

  for (const kind of HOOK_KINDS) {
    spec.hooks?.[kind]?.forEach((hook, i) => {
      if (!isAbsolute(hook.path)) add(['hooks', kind, i, 'path'], 'must be an absolute path');
    });
  }

  spec.mounts?.forEach((m, i) => {
    if (m.destination === '') add(['mounts', i, 'destination'], 'must not be empty');
    if ((m.uidMappings === undefined) !== (m.gidMappings === undefined)) {
      const missing = m.uidMappings === undefined ? 'uidMappings' : 'gidMappings';
      add(['mounts', i, missing], 'is required with an idmapped mount (uidMappings and gidMappings go together)');
    }
  });

  const linux = spec.linux;
  const namespaces = linux?.namespaces ?? [];
  const nsIndex = new Map<string, number>();
  namespaces.forEach((ns, i) => {
    const first = nsIndex.get(ns.type);
    if (first !== undefined) add(['linux', 'namespaces', i, 'type'], `${JSON.stringify(ns.type)} is already listed at linux.namespaces[${first}]`);
    else nsIndex.set(ns.type, i);
    if (ns.path !== undefined && !isAbsolute(ns.path)) add(['linux', 'namespaces', i, 'path'], 'must be an absolute path');
  });
  const ns = (type: string) => {
    const i = nsIndex.get(type);
    return i === undefined ? undefined : namespaces[i];
  };

  // User namespace: a new one needs both mappings; mappings need a user namespace.
  const userNs = ns('user');
  const hasMapping = (m: LinuxIDMapping[] | undefined) => m !== undefined && m.length > 0;
  if (userNs !== undefined && userNs.path === undefined) {
    if (!hasMapping(linux?.uidMappings)) add(['linux', 'uidMappings'], 'is required when a new user namespace is created');
    if (!hasMapping(linux?.gidMappings)) add(['linux', 'gidMappings'], 'is required when a new user namespace is created');
  }
  if (userNs === undefined) {
    for (const key of ['uidMappings', 'gidMappings'] as const) {
      if (hasMapping(linux?.[key])) add(['linux', key], 'needs a user namespace: add {"type": "user"} to linux.namespaces');
    }
  }

  if (linux?.timeOffsets !== undefined && Object.keys(linux.timeOffsets).length > 0) {
    const timeNs = ns('time');
    if (timeNs === undefined) add(['linux', 'timeOffsets'], 'needs a time namespace: add {"type": "time"} to linux.namespaces');
    else if (timeNs.path !== undefined) add(['linux', 'timeOffsets'], 'cannot be set when joining an existing time namespace');
  }

  // runc: "unable to set hostname without a private UTS namespace"
  for (const key of ['hostname', 'domainname'] as const) {
    if (spec[key] && ns('uts') === undefined) add([key], 'needs a UTS namespace: add {"type": "uts"} to linux.namespaces');
  }

  for (const key of ['maskedPaths', 'readonlyPaths'] as const) {
    linux?.[key]?.forEach((p, i) => {
      if (!isAbsolute(p)) add(['linux', key, i], 'must be an absolute path');
    });
  }

  const seccomp = linux?.seccomp;
  if (seccomp !== undefined) {
    if (seccomp.listenerMetadata !== undefined && seccomp.listenerPath === undefined) {
      add(['linux', 'seccomp', 'listenerMetadata'], 'must not be set without listenerPath');
    }
    if (seccomp.defaultErrnoRet !== undefined && !ERRNO_ACTIONS.has(seccomp.defaultAction)) {
      add(['linux', 'seccomp', 'defaultErrnoRet'], `cannot be used with defaultAction ${seccomp.defaultAction} (only SCMP_ACT_ERRNO, SCMP_ACT_TRACE)`);
    }
    seccomp.syscalls?.forEach((call, i) => {
      if (call.errnoRet !== undefined && !ERRNO_ACTIONS.has(call.action)) {
        add(['linux', 'seccomp', 'syscalls', i, 'errnoRet'], `cannot be used with action ${call.action} (only SCMP_ACT_ERRNO, SCMP_ACT_TRACE)`);
      }
    });
  }
  return out;
}

// sysctls that belong to the IPC namespace (besides fs.mqueue.*), as runc lists them.
const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);
const UTS_SYSCTLS = new Set(['kernel.hostname', 'kernel.domainname']);

/**
 * linux.sysctl: a key is accepted only when the container has its own namespace for it (runc's
 * rule): ipc for the IPC keys and fs.mqueue.*, network for net.* (a joined one must not be the
 * host's), uts for kernel.hostname/domainname. Anything else (kernel.core_pattern, vm.*…) would
 * change the host and is refused. Returns [key, words] pairs.
 */
export function sysctlProblems(spec: Spec, hostNetNs = '/proc/self/ns/net'): [string, string][] {
  const out: [string, string][] = [];
  const namespaces = spec.linux?.namespaces ?? [];
  const ns = (type: string) => namespaces.find((n) => n.type === type);
  for (const raw of Object.keys(spec.linux?.sysctl ?? {})) {
    const key = raw.replace(/\//g, '.');
    if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) {
      if (!ns('ipc')) out.push([raw, 'is not allowed in the host\'s ipc namespace (add an ipc namespace)']);
    } else if (key.startsWith('net.')) {
      const net = ns('network');
      if (!net) out.push([raw, 'is not allowed in the host\'s network namespace (add a network namespace)']);
      else if (net.path !== undefined && sameFile(net.path, hostNetNs)) out.push([raw, `is not allowed: linux.namespaces network path ${net.path} is the host's network namespace`]);
    } else if (UTS_SYSCTLS.has(key)) {
      if (!ns('uts')) out.push([raw, 'is not allowed in the host\'s uts namespace (add a uts namespace)']);
    } else {
      out.push([raw, 'is not in a separate kernel namespace: setting it would change the host']);
    }
  }
  return out;
}

function sameFile(a: string, b: string): boolean {
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false; // a missing path fails later, naming the namespace
  }
}
