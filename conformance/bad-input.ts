// Bad configs: every one must make `create` exit non-zero and leave nothing behind (no state dir, cgroup,
// mount or process); with --expect-field-names the error must also name the field at fault.
//   npm run bad-input -- --runtime PATH [--expect-field-names] [--filter REGEX] [--strict|--report-only]
// Inputs: the runtime-spec's own bad configs (schema/test/config/bad in the spec tree, read at run time;
// skipped cleanly when absent, or when OCI_SPEC_DIR points elsewhere) and generated mutations of the
// suite's good config (wrong types, bad enums, missing required fields, semantic errors).
// runc and crun are reported, not failed (they validate little; this is hako's bar) unless --strict.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Case, CaseContext, RunEnv } from './lib/case.ts';
import { errorClass } from './lib/case.ts';
import { cleanUpOnSignals, closeSession, openSession } from './lib/env.ts';
import { runCase } from './lib/runner.ts';
import type { Spec } from './lib/spec.ts';
import { clone } from './lib/spec.ts';

const SPEC_DIR = process.env.OCI_SPEC_DIR ?? '/work/shared/oci-runtime-spec-v1.3.0';

/** One bad input: `field` is the config path the error should name (undefined: unknown). */
interface BadInput {
  name: string;
  field?: string;
  /** Mutates a copy of the good config (object form), or returns raw config text. */
  make: (s: Spec & Record<string, unknown>) => void | string;
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return v as Json;
}

const mutations: BadInput[] = [
  // wrong types
  { name: 'type/ociVersion-number', field: 'ociVersion', make: (s) => void (s.ociVersion = 1 as unknown as string) },
  { name: 'type/root-string', field: 'root', make: (s) => void (obj(s).root = 'rootfs') },
  { name: 'type/root.readonly-string', field: 'root.readonly', make: (s) => void (obj(s.root).readonly = 'true') },
  { name: 'type/process.args-string', field: 'process.args', make: (s) => void (obj(s.process).args = '/bin/probe sleep') },
  { name: 'type/process.env-string', field: 'process.env', make: (s) => void (obj(s.process).env = 'A=B') },
  { name: 'type/process.cwd-number', field: 'process.cwd', make: (s) => void (obj(s.process).cwd = 5) },
  { name: 'type/process.terminal-string', field: 'process.terminal', make: (s) => void (obj(s.process).terminal = 'no') },
  { name: 'type/process.user.uid-string', field: 'process.user.uid', make: (s) => void (obj(s.process!.user).uid = '0') },
  { name: 'type/process.user.uid-negative', field: 'process.user.uid', make: (s) => void (s.process!.user.uid = -1) },
  { name: 'type/process.user.additionalGids-strings', field: 'process.user.additionalGids', make: (s) => void (obj(s.process!.user).additionalGids = ['a']) },
  { name: 'type/process.rlimits.soft-string', field: 'process.rlimits[0].soft', make: (s) => void (obj(s.process!.rlimits![0]).soft = 'lots') },
  { name: 'type/process.noNewPrivileges-string', field: 'process.noNewPrivileges', make: (s) => void (obj(s.process).noNewPrivileges = 'yes') },
  { name: 'type/process.oomScoreAdj-string', field: 'process.oomScoreAdj', make: (s) => void (obj(s.process).oomScoreAdj = 'high') },
  { name: 'type/process.capabilities-array', field: 'process.capabilities', make: (s) => void (obj(s.process).capabilities = ['CAP_KILL']) },
  { name: 'type/hostname-number', field: 'hostname', make: (s) => void (obj(s).hostname = 7) },
  { name: 'type/mounts-object', field: 'mounts', make: (s) => void (obj(s).mounts = { destination: '/x' }) },
  { name: 'type/mounts.destination-number', field: 'mounts[0].destination', make: (s) => void (obj(s.mounts![0]).destination = 1) },
  { name: 'type/mounts.options-string', field: 'mounts[1].options', make: (s) => void (obj(s.mounts![1]).options = 'nosuid') },
  { name: 'type/annotations-value-number', field: 'annotations', make: (s) => void (obj(s).annotations = { 'org.example.key': 1 }) },
  { name: 'type/linux.namespaces-string', field: 'linux.namespaces', make: (s) => void (obj(s.linux).namespaces = 'pid') },
  { name: 'type/linux.resources.memory.limit-string', field: 'linux.resources.memory.limit', make: (s) => void (s.linux!.resources!.memory = { limit: '64M' }) },
  { name: 'type/linux.resources.pids.limit-string', field: 'linux.resources.pids.limit', make: (s) => void (s.linux!.resources!.pids = { limit: 'many' }) },
  { name: 'type/linux.resources.cpu.shares-negative', field: 'linux.resources.cpu.shares', make: (s) => void (s.linux!.resources!.cpu = { shares: -5 }) },
  { name: 'type/linux.sysctl-value-number', field: 'linux.sysctl', make: (s) => void (obj(s.linux).sysctl = { 'net.ipv4.ip_forward': 1 }) },
  { name: 'type/linux.uidMappings-object', field: 'linux.uidMappings', make: (s) => void (obj(s.linux).uidMappings = { containerID: 0, hostID: 1000, size: 1 }) },
  { name: 'type/hooks.prestart-object', field: 'hooks.prestart', make: (s) => void (obj(s).hooks = { prestart: { path: '/bin/true' } }) },
  // bad enum values
  { name: 'enum/namespace-type', field: 'linux.namespaces[0].type', make: (s) => void (s.linux!.namespaces![0]!.type = 'bogus') },
  { name: 'enum/rlimit-type', field: 'process.rlimits[0].type', make: (s) => void (s.process!.rlimits![0]!.type = 'RLIMIT_BOGUS') },
  { name: 'enum/rootfsPropagation', field: 'linux.rootfsPropagation', make: (s) => void (s.linux!.rootfsPropagation = 'sideways') },
  { name: 'enum/seccomp-defaultAction', field: 'linux.seccomp.defaultAction', make: (s) => void (s.linux!.seccomp = { defaultAction: 'SCMP_ACT_BOGUS' }) },
  {
    name: 'enum/seccomp-architecture',
    field: 'linux.seccomp.architectures[0]',
    make: (s) => void (s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_BOGUS'] }),
  },
  {
    name: 'enum/seccomp-operator',
    field: 'linux.seccomp.syscalls[0].args[0].op',
    make: (s) =>
      void (s.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 1, op: 'SCMP_CMP_BOGUS' }] }],
      }),
  },
  { name: 'enum/device-type', field: 'linux.devices[0].type', make: (s) => void (s.linux!.devices = [{ path: '/dev/x', type: 'x', major: 1, minor: 3 }]) },
  { name: 'enum/personality-domain', field: 'linux.personality.domain', make: (s) => void (s.linux!.personality = { domain: 'LINUX64' }) },
  { name: 'enum/scheduler-policy', field: 'process.scheduler.policy', make: (s) => void (s.process!.scheduler = { policy: 'SCHED_BOGUS' }) },
  { name: 'enum/ioPriority-class', field: 'process.ioPriority.class', make: (s) => void (s.process!.ioPriority = { class: 'IOPRIO_BOGUS', priority: 1 }) },
  { name: 'enum/unknown-capability', field: 'process.capabilities.effective', make: (s) => void s.process!.capabilities!.effective!.push('CAP_BOGUS') },
  // missing required fields
  { name: 'missing/ociVersion', field: 'ociVersion', make: (s) => void delete obj(s).ociVersion },
  { name: 'missing/root.path', field: 'root.path', make: (s) => void delete obj(s.root).path },
  { name: 'missing/process.cwd', field: 'process.cwd', make: (s) => void delete obj(s.process).cwd },
  // (No "missing process.user": config.md lists no REQUIRED `user` among the process fields; only its uid and gid are REQUIRED.)
  { name: 'missing/process.user.uid', field: 'process.user.uid', make: (s) => void delete obj(s.process!.user).uid },
  { name: 'missing/mounts.destination', field: 'mounts[0].destination', make: (s) => void delete obj(s.mounts![0]).destination },
  { name: 'missing/namespace-type', field: 'linux.namespaces[0].type', make: (s) => void delete obj(s.linux!.namespaces![0]).type },
  { name: 'missing/rlimit-hard', field: 'process.rlimits[0].hard', make: (s) => void delete obj(s.process!.rlimits![0]).hard },
  { name: 'missing/device-path', field: 'linux.devices[0].path', make: (s) => void (s.linux!.devices = [{ type: 'c', major: 1, minor: 3 } as never]) },
  { name: 'missing/hook-path', field: 'hooks.prestart[0].path', make: (s) => void (obj(s).hooks = { prestart: [{ args: ['x'] }] }) },
  { name: 'missing/seccomp-defaultAction', field: 'linux.seccomp.defaultAction', make: (s) => void (obj(s.linux).seccomp = { syscalls: [] }) },
  {
    name: 'missing/uidMappings-size',
    field: 'linux.uidMappings[0].size',
    make: (s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      obj(s.linux).uidMappings = [{ containerID: 0, hostID: 100000 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    },
  },
  // semantic errors
  { name: 'semantic/root-path-missing', field: 'root.path', make: (s) => void (s.root!.path = 'no-such-rootfs') },
  { name: 'semantic/process.cwd-relative', field: 'process.cwd', make: (s) => void (s.process!.cwd = 'tmp') },
  { name: 'semantic/process.args-empty', field: 'process.args', make: (s) => void (s.process!.args = []) },
  { name: 'semantic/duplicate-namespace', field: 'linux.namespaces', make: (s) => void s.linux!.namespaces!.push({ type: 'pid' }) },
  {
    name: 'semantic/duplicate-rlimit',
    field: 'process.rlimits',
    make: (s) => void s.process!.rlimits!.push({ type: 'RLIMIT_NOFILE', soft: 10, hard: 10 }),
  },
  { name: 'semantic/namespace-path-relative', field: 'linux.namespaces[1].path', make: (s) => void (s.linux!.namespaces![1] = { type: 'network', path: 'proc/1/ns/net' }) },
  { name: 'semantic/hook-path-relative', field: 'hooks.prestart[0].path', make: (s) => void (s.hooks = { prestart: [{ path: 'true' }] }) },
  { name: 'semantic/hook-timeout-zero', field: 'hooks.prestart[0].timeout', make: (s) => void (s.hooks = { prestart: [{ path: '/bin/true', timeout: 0 }] }) },
  { name: 'semantic/annotation-empty-key', field: 'annotations', make: (s) => void (s.annotations = { '': 'x' }) },
  { name: 'semantic/maskedPaths-relative', field: 'linux.maskedPaths[0]', make: (s) => void (s.linux!.maskedPaths = ['proc/kcore']) },
  { name: 'semantic/readonlyPaths-relative', field: 'linux.readonlyPaths[0]', make: (s) => void (s.linux!.readonlyPaths = ['proc/sys']) },
  {
    name: 'semantic/listenerMetadata-without-listenerPath',
    field: 'linux.seccomp.listenerMetadata',
    make: (s) => void (s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'x' }),
  },
  {
    name: 'semantic/seccomp-errnoRet-on-kill',
    field: 'linux.seccomp.syscalls[0].errnoRet',
    make: (s) => void (s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_KILL', errnoRet: 1 }] }),
  },
  {
    name: 'semantic/uidMappings-without-user-namespace',
    field: 'linux.uidMappings',
    make: (s) => {
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    },
  },
  { name: 'semantic/ociVersion-not-semver', field: 'ociVersion', make: (s) => void (s.ociVersion = 'one point oh') },
  { name: 'semantic/mount-destination-empty', field: 'mounts[0].destination', make: (s) => void (s.mounts![0]!.destination = '') },
  { name: 'syntax/truncated-json', make: () => '{"ociVersion": "1.0.2", "root": {"path": "rootfs"' },
  { name: 'syntax/not-an-object', make: () => '[1, 2, 3]' },
];

/** The runtime-spec's bad configs, read at run time. The field each one breaks, where its name says it. */
function officialInputs(): BadInput[] {
  const dir = join(SPEC_DIR, 'schema/test/config/bad');
  if (!existsSync(dir)) return [];
  const fieldOf: Record<string, string> = { 'linux-hugepage': 'hugepageLimits', 'linux-netdevice': 'netDevices', 'linux-rdma': 'rdma', 'freebsd-vnet-disable': 'vnet' };
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const base = f.replace(/\.json$/, '');
      return {
        name: `spec/${base}`,
        field: fieldOf[base],
        make: (good) => {
          const text = readFileSync(join(dir, f), 'utf8');
          let v: unknown;
          try {
            v = JSON.parse(text);
          } catch {
            return text;
          }
          if (!v || typeof v !== 'object' || Array.isArray(v)) return text;
          // Laid over the suite's good config, so that the test file's bad field is the only problem
          // (the spec's files leave out process, mounts and namespaces).
          return JSON.stringify(deepMerge(good, v as Json));
        },
      };
    });
}

/** `over` laid onto `base`: objects merge key by key, anything else replaces. */
function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const bothObjects = v && b && typeof v === 'object' && typeof b === 'object' && !Array.isArray(v) && !Array.isArray(b);
    out[k] = bothObjects ? deepMerge(b as Json, v as Json) : v;
  }
  return out;
}

/** Ways an error can name `field`: dotted with [i], dotted with .i, JSON pointer. */
function fieldVariants(field: string): string[] {
  const dotted = field;
  const dots = field.replace(/\[(\d+)\]/g, '.$1');
  const pointer = `/${dots.replace(/\./g, '/')}`;
  return [...new Set([dotted, dots, pointer, pointer.slice(1)])];
}

interface Outcome {
  name: string;
  exit: string;
  errorClass: string;
  named: string;
  leftovers: string[];
  message: string;
}

function caseFor(input: BadInput, outcomes: Outcome[], expectNames: boolean): Case {
  return {
    name: `bad-input/${input.name}`,
    section: 'bad-input',
    async run(t: CaseContext) {
      const id = t.newId('bad');
      const b = t.bundle(['sleep']);
      const good = clone(b.spec) as Spec & Record<string, unknown>;
      good.linux!.cgroupsPath = t.cgroupsPath(id);
      const made = input.make(good);
      const text = typeof made === 'string' ? made : JSON.stringify(good, null, 2);
      writeFileSync(join(b.dir, 'config.json'), text);
      b.write = () => {};
      const c = await t.tryCreate(b, { id, timeoutMs: 10_000 });
      const r = c.createResult!;
      const logText = t
        .logLines()
        .map((l) => String(l.msg ?? JSON.stringify(l)))
        .join('\n');
      const message = `${r.stderr}\n${logText}`.trim();
      const outcome: Outcome = {
        name: input.name,
        exit: r.timedOut ? 'timeout' : r.code === 0 ? '0 (accepted)' : String(r.code),
        errorClass: errorClass(r),
        named: '-',
        leftovers: [],
        message: message.split('\n').filter(Boolean).pop()?.slice(0, 160) ?? '',
      };
      outcomes.push(outcome);
      if (!t.check(r.code !== 0 && !r.timedOut, `create must fail (exit ${r.code ?? 'signal'})`)) return;
      if (input.field) {
        const ok = fieldVariants(input.field).some((v) => message.includes(v));
        outcome.named = ok ? 'yes' : 'no';
        if (expectNames) t.check(ok, `the error must name ${input.field}: ${JSON.stringify(message.slice(0, 300))}`);
      }
      // Nothing may remain: the teardown's leak check (state dir, processes, cgroups, mounts) runs after
      // delete --force; look before that too, since delete --force would hide a state dir.
      if (existsSync(join(t.env.root, id))) outcome.leftovers.push('state dir');
      if ((await t.rt.call(['state', id])).code === 0) outcome.leftovers.push('container');
      for (const [ctrl, mount] of t.host.cgroupV1) if (existsSync(join(mount, t.cgroupsPath(id)))) outcome.leftovers.push(`cgroup ${ctrl}`);
      if (c.pidFileText()) outcome.leftovers.push('pid file');
      t.check(outcome.leftovers.length === 0, `a failed create must leave nothing, found: ${outcome.leftovers.join(', ')}`);
    },
  };
}

/** The good config itself must be accepted: a runtime refusing everything proves nothing. */
const control: Case = {
  name: 'bad-input/control-good-config',
  section: 'bad-input',
  async run(t) {
    const c = await t.create(t.bundle(['sleep']));
    t.equal((await c.state())?.status, 'created', 'the good config must create a container');
  },
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runtime: { type: 'string' },
      'expect-field-names': { type: 'boolean', default: false },
      filter: { type: 'string' },
      strict: { type: 'boolean', default: false },
      'report-only': { type: 'boolean', default: false },
      jobs: { type: 'string', default: '2' },
    },
  });
  if (!values.runtime) {
    console.error('usage: npm run bad-input -- --runtime PATH [--expect-field-names] [--filter REGEX] [--strict|--report-only]');
    return 2;
  }
  const official = officialInputs();
  const filter = values.filter ? new RegExp(values.filter) : undefined;
  const inputs = [...official, ...mutations].filter((i) => !filter || filter.test(i.name));
  cleanUpOnSignals();
  const session = await openSession([values.runtime], 'conformance-bad');
  const env = session.envs[0] as RunEnv;
  const reportOnly = values['report-only'] || (!values.strict && (env.kind === 'runc' || env.kind === 'crun'));
  const outcomes: Outcome[] = [];
  const failures: string[] = [];
  let controlFailure: string | undefined;
  try {
    const cr = await runCase(env, control, 0);
    if (cr.outcome !== 'pass') controlFailure = cr.failures[0] ?? 'failed';
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < inputs.length) {
        const i = next++;
        const input = inputs[i] as BadInput;
        const r = await runCase(env, caseFor(input, outcomes, values['expect-field-names']), i + 1);
        for (const f of r.failures) failures.push(`${input.name}: ${f}`);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Number(values.jobs) || 2) }, worker));
  } finally {
    await closeSession(session);
  }
  outcomes.sort((a, b) => inputs.findIndex((i) => i.name === a.name) - inputs.findIndex((i) => i.name === b.name));
  console.log(`runtime: ${env.bin} (${session.versions.get(env) ?? ''})`);
  if (!official.length) console.log(`spec bad configs: skipped (${join(SPEC_DIR, 'schema/test/config/bad')} is absent)`);
  console.log(['input'.padEnd(46), 'exit'.padEnd(13), 'class'.padEnd(15), 'named', 'left', 'message'].join('  '));
  for (const o of outcomes) {
    console.log([o.name.padEnd(46), o.exit.padEnd(13), o.errorClass.padEnd(15), o.named.padEnd(5), (o.leftovers.join(',') || '-').padEnd(4), o.message].join('  '));
  }
  const accepted = outcomes.filter((o) => o.exit.startsWith('0')).length;
  const unnamed = outcomes.filter((o) => o.named === 'no').length;
  const leaky = failures.filter((f) => /leave nothing|leak:/.test(f)).length;
  for (const f of failures) console.log(`${reportOnly ? 'report' : 'FAIL'}: ${f}`);
  if (controlFailure) console.log(`FAIL: control: the good config must be accepted, so refusals mean something: ${controlFailure}`);
  console.log(
    `bad-input: ${outcomes.length} inputs, ${outcomes.length - accepted} refused, ${accepted} accepted, ${unnamed} refused without naming the field, ${leaky} left something${reportOnly ? ` (report only: ${env.kind} is not held to this bar)` : ''}`,
  );
  if (controlFailure) return 1;
  return failures.length > 0 && !reportOnly ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(2);
  },
);
