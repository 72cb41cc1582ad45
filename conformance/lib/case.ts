// The case API. A case is a named async function that drives the runtime through a CaseContext and
// leaves behind observations (a JSON-able record: what it saw) and failures (what it asserted and
// did not hold). Observations make --compare natural: run the case on two runtimes, diff the records.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { copyTree, PROBE_BIN } from './bundle.ts';
import type { HostInfo } from './host.ts';
import { hasCap, procStat, reapedStatuses } from './host.ts';
import { jsonLines, readText } from './probe.ts';
import type { Report } from './probe.ts';
import { describeCall, RuntimeCli, startProcess } from './runtime.ts';
import type { CallOptions, CallResult, RunningCall } from './runtime.ts';
import { clone, defaultSpec } from './spec.ts';
import type { Hook, Spec } from './spec.ts';

export type RuntimeKind = 'runc' | 'crun' | 'hako' | 'other';

/** A host feature a case needs; without it the case is skipped, with the reason. */
export type Requirement =
  | 'userns'
  | 'overlay'
  | 'seccomp-notify'
  | 'apparmor'
  | 'selinux'
  | `cgroup-v1:${string}`
  | `cgroup-v2:${string}`
  | `cap:${string}`;

/** A runtime that is known to break the spec here: reported as such, not counted against the run. */
export interface Deviation {
  /** The spec sentence it breaks. */
  spec: string;
  /** What the runtime does instead. */
  behaviour: string;
}

export interface Case {
  /** `section/short-name`, unique; the name used by --filter and expected-failures files. */
  name: string;
  /** Where the rule comes from, e.g. `runtime.md#create`, `config-linux.md#devices`, `containerd`. */
  section: string;
  /** The sentence (or behaviour clients rely on) under test. */
  spec?: string;
  needs?: Requirement[];
  deviations?: Partial<Record<RuntimeKind, Deviation>>;
  timeoutMs?: number;
  run(t: CaseContext): Promise<void>;
}

export class CaseFailure extends Error {}
export class CaseSkip extends Error {}

/** Everything shared by the cases of one run against one runtime. */
export interface RunEnv {
  bin: string;
  kind: RuntimeKind;
  /** Short tag for names (cgroups, ids) so two runtimes never collide in --compare. */
  tag: string;
  root: string;
  runDir: string;
  template: string;
  host: HostInfo;
  /** cgroupsPath parent, e.g. /hako-conformance-1234-a */
  cgroupParent: string;
}

export interface Bundle {
  dir: string;
  rootfs: string;
  spec: Spec;
  /** (Re)writes config.json from `spec`. */
  write(): void;
}

export interface State {
  ociVersion?: string;
  id?: string;
  status?: string;
  pid?: number;
  bundle?: string;
  bundlePath?: string;
  annotations?: Record<string, string>;
  [k: string]: unknown;
}

export function unmet(host: HostInfo, needs: Requirement[] | undefined): string | undefined {
  for (const n of needs ?? []) {
    if (n === 'userns' && !host.userns) return 'user namespaces are disabled on this host';
    if (n === 'overlay' && !host.overlay) return 'overlayfs is not available on this host';
    if (n === 'seccomp-notify' && !host.seccompNotify) return 'the kernel lacks SECCOMP_RET_USER_NOTIF';
    if (n === 'apparmor' && !host.apparmor) return 'AppArmor is not enabled on this host';
    if (n === 'selinux' && !host.selinux) return 'SELinux is not enabled on this host';
    if (n.startsWith('cgroup-v1:') && !host.cgroupV1.has(n.slice(10)))
      return `the cgroup v1 ${n.slice(10)} controller is not mounted on this host`;
    if (n.startsWith('cgroup-v2:') && !host.cgroupV2Controllers.includes(n.slice(10)))
      return `the cgroup v2 ${n.slice(10)} controller is not enabled on this host (hybrid: v2 has ${host.cgroupV2Controllers.join(', ') || 'nothing'})`;
    if (n.startsWith('cap:') && !hasCap(host, n.slice(4))) return `${n.slice(4)} is not in this host's capability bounding set`;
  }
  return undefined;
}

export class Container {
  readonly pidFile: string;
  readonly outPath: string;
  readonly errPath: string;
  createResult?: CallResult;

  constructor(
    private readonly t: CaseContext,
    readonly id: string,
    readonly bundle: Bundle,
  ) {
    this.pidFile = join(bundle.dir, `${id}.pid`);
    this.outPath = join(bundle.dir, `${id}.out`);
    this.errPath = join(bundle.dir, `${id}.err`);
  }

  /** The pid file's content as written by the runtime. */
  pidFileText(): string | undefined {
    try {
      return readFileSync(this.pidFile, 'utf8');
    } catch {
      return undefined;
    }
  }

  pid(): number {
    const text = this.pidFileText();
    if (text === undefined || !/^\s*\d+\s*$/.test(text)) this.t.fail(`pid file ${this.pidFile} missing or not a number: ${JSON.stringify(text)}`);
    return Number(text);
  }

  stdout(): string {
    return readText(this.outPath);
  }

  stderr(): string {
    return readText(this.errPath);
  }

  start(opts?: CallOptions): Promise<CallResult> {
    return this.t.rt.call(['start', this.id], opts);
  }

  kill(signal = 'KILL', all = false): Promise<CallResult> {
    return this.t.rt.call(['kill', ...(all ? ['--all'] : []), this.id, signal]);
  }

  delete(force = false): Promise<CallResult> {
    return this.t.rt.call(['delete', ...(force ? ['--force'] : []), this.id]);
  }

  state(): Promise<State | undefined> {
    return this.t.state(this.id);
  }

  /** Polls `state` until status is `want` (fails the case after timeoutMs). */
  async waitStatus(want: string, timeoutMs = 5000): Promise<State> {
    const end = Date.now() + timeoutMs;
    let last: State | undefined;
    for (;;) {
      last = await this.t.state(this.id, true);
      if (last?.status === want) return last;
      if (Date.now() > end) this.t.fail(`container ${this.id} did not reach status ${want} within ${timeoutMs} ms (last: ${last?.status ?? 'no state'})`);
      await sleep(25);
    }
  }

  /** Waits until the container's stdout holds at least `count` probe JSON lines. */
  async reports(count = 1, timeoutMs = 5000): Promise<Report[]> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const lines = jsonLines(this.stdout());
      if (lines.length >= count) return lines;
      if (Date.now() > end) {
        this.t.fail(
          `container ${this.id}: expected ${count} probe report(s) on stdout within ${timeoutMs} ms, got ${lines.length}; ` +
            `stdout=${JSON.stringify(this.stdout().slice(0, 300))} stderr=${JSON.stringify(this.stderr().slice(0, 300))}`,
        );
      }
      await sleep(20);
    }
  }

  async report(timeoutMs = 5000): Promise<Report> {
    return (await this.reports(1, timeoutMs))[0] as Report;
  }

  /** The init's exit status as this subreaper collected it (after the container stopped). */
  async exitStatus(pid: number, timeoutMs = 3000): Promise<{ code: number | null; signal: number | null } | undefined> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const s = reapedStatuses.get(pid);
      if (s) return s;
      await sleep(25);
    }
    return undefined;
  }
}

export interface CreateOptions {
  id?: string;
  consoleSocket?: string;
  /** fds passed at 3.. with --preserve-fds N (N = length). */
  preserveFds?: number[];
  /** fds passed at 3.. WITHOUT --preserve-fds: they must not reach the container. */
  strayFds?: number[];
  stdin?: number | 'ignore';
  extraArgs?: string[];
  /** Leave out --pid-file. */
  noPidFile?: boolean;
  /** Use `run --detach` instead of `create` (the container then runs right away). */
  command?: 'create' | 'run';
  timeoutMs?: number;
}

export class CaseContext {
  readonly rt: RuntimeCli;
  readonly dir: string;
  readonly logFile: string;
  readonly observations: Record<string, unknown> = {};
  readonly failures: string[] = [];
  readonly containers: Container[] = [];
  /** Ids (including ones that never got a Container) to `delete --force` in teardown. */
  readonly ids = new Set<string>();
  /** Host pids the case learned about (inits, exec'd processes): must be gone after teardown. */
  readonly pids = new Set<number>();
  private readonly defers: (() => Promise<void> | void)[] = [];
  private seq = 0;

  constructor(
    readonly env: RunEnv,
    readonly name: string,
    readonly index: number,
  ) {
    this.dir = join(env.runDir, `case-${env.tag}-${index}`);
    mkdirSync(this.dir, { recursive: true });
    this.logFile = join(this.dir, 'runtime-log.json');
    this.rt = new RuntimeCli(env.bin, env.root, this.logFile);
  }

  get host(): HostInfo {
    return this.env.host;
  }

  get kind(): RuntimeKind {
    return this.env.kind;
  }

  // ---- results -------------------------------------------------------------------------------

  observe(key: string, value: unknown): void {
    this.observations[key] = value;
  }

  /** Soft assertion: records a failure and carries on. */
  check(cond: unknown, message: string): boolean {
    if (!cond) this.failures.push(message);
    return Boolean(cond);
  }

  equal(actual: unknown, expected: unknown, message: string): boolean {
    if (isDeepStrictEqual(actual, expected)) return true;
    this.failures.push(`${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
    return false;
  }

  /** Hard assertion: stops the case unless `value` is truthy; returns it (narrowed). */
  must<T>(value: T, message: string): NonNullable<T> {
    if (!value) this.fail(message);
    return value as NonNullable<T>;
  }

  fail(message: string): never {
    throw new CaseFailure(message);
  }

  skip(reason: string): never {
    throw new CaseSkip(reason);
  }

  /** The call must succeed, or the case stops. */
  ok(r: CallResult, what?: string): CallResult {
    if (r.code !== 0) this.fail(`${what ? `${what}: ` : ''}${describeCall(r)}`);
    return r;
  }

  /** The call must fail (non-zero exit, not a timeout); returns whether it did. Records its error class. */
  errors(r: CallResult, what: string): boolean {
    this.observe(`error:${what}`, { exit: r.code === 0 ? 0 : 'non-zero', class: errorClass(r) });
    if (r.timedOut) return this.check(false, `${what}: the runtime hung (${describeCall(r)})`);
    return this.check(r.code !== 0 && r.code !== null, `${what}: expected an error, got ${describeCall(r)}`);
  }

  defer(fn: () => Promise<void> | void): void {
    this.defers.push(fn);
  }

  // ---- names -----------------------------------------------------------------------------------

  /** A fresh container id owned by this case (deleted in teardown whatever happens). */
  newId(tag = 'c'): string {
    const id = `hc-${this.env.tag}${this.index}-${tag}${this.seq++}`;
    this.ids.add(id);
    return id;
  }

  cgroupsPath(id: string): string {
    return `${this.env.cgroupParent}/${id}`;
  }

  /** Host path of the probe (for hooks, receivers). */
  get probeHost(): string {
    return PROBE_BIN;
  }

  // ---- bundles and containers ---------------------------------------------------------------------

  /** A bundle whose process runs `/bin/probe ...items`; `edit` adjusts the default config. */
  bundle(items: string[] = ['sleep'], edit?: (s: Spec, b: { dir: string; rootfs: string }) => void, name?: string): Bundle {
    const dir = join(this.dir, name ?? `bundle${this.seq++}`);
    mkdirSync(dir);
    const rootfs = join(dir, 'rootfs');
    copyTree(this.env.template, rootfs);
    const spec = defaultSpec(['/bin/probe', ...items], '');
    const b: Bundle = {
      dir,
      rootfs,
      spec,
      write: () => writeFileSync(join(dir, 'config.json'), JSON.stringify(b.spec, null, 2)),
    };
    edit?.(spec, { dir, rootfs });
    b.write();
    return b;
  }

  /** `create` (or `run -d`) with stdout/stderr going to files; returns the Container whatever happened. */
  async tryCreate(b: Bundle, opts: CreateOptions = {}): Promise<Container> {
    const id = opts.id ?? this.newId();
    this.ids.add(id);
    // The cgroup path carries the id so teardown can find and remove it.
    if (b.spec.linux && b.spec.linux.cgroupsPath === '') {
      b.spec.linux.cgroupsPath = this.cgroupsPath(id);
      b.write();
    }
    const c = new Container(this, id, b);
    this.containers.push(c);
    const out = openSync(c.outPath, 'a');
    const err = openSync(c.errPath, 'a');
    const fds = [...(opts.preserveFds ?? []), ...(opts.strayFds ?? [])];
    const args: string[] = [opts.command ?? 'create'];
    if (opts.command === 'run') args.push('--detach');
    args.push('--bundle', b.dir);
    if (!opts.noPidFile) args.push('--pid-file', c.pidFile);
    if (opts.consoleSocket) args.push('--console-socket', opts.consoleSocket);
    if (opts.preserveFds?.length) args.push('--preserve-fds', String(opts.preserveFds.length));
    args.push(...(opts.extraArgs ?? []), id);
    try {
      c.createResult = await this.rt.call(args, {
        stdin: opts.stdin ?? 'ignore',
        stdout: out,
        stderr: err,
        extraFds: fds,
        timeoutMs: opts.timeoutMs,
      });
    } finally {
      closeSync(out);
      closeSync(err);
    }
    // The runtime's own stderr went to the container's stderr file (as under containerd).
    c.createResult.stderr = c.stderr();
    const text = c.pidFileText();
    if (text !== undefined && /^\d+$/.test(text.trim())) this.pids.add(Number(text));
    return c;
  }

  /** `create` that must succeed. */
  async create(b: Bundle, opts: CreateOptions = {}): Promise<Container> {
    const c = await this.tryCreate(b, opts);
    this.ok(c.createResult as CallResult, opts.command ?? 'create');
    return c;
  }

  /** create + start, must both succeed. */
  async startContainer(b: Bundle, opts: CreateOptions = {}): Promise<Container> {
    const c = await this.create(b, opts);
    this.ok(await c.start(), 'start');
    return c;
  }

  /**
   * The common shape of a config case: a probe reporting `items`, with `edit` applied to the config;
   * create, start, wait for it to stop, delete, and return its report.
   */
  async probe(items: string[], edit?: (s: Spec, b: { dir: string; rootfs: string }) => void): Promise<Report> {
    const b = this.bundle([...items, 'exit:0'], edit);
    const c = await this.startContainer(b);
    await c.waitStatus('stopped');
    const r = await c.report();
    this.ok(await c.delete(), 'delete');
    return r;
  }

  /**
   * A positive control for error cases: a container that must create and report state, so that a
   * runtime failing every call (e.g. /bin/false) cannot pass a "must generate an error" case.
   */
  async control(): Promise<Container> {
    const c = await this.create(this.bundle(['sleep']));
    const st = await this.state(c.id);
    this.must(st?.status === 'created', `control container: state must report created, got ${JSON.stringify(st)}`);
    return c;
  }

  /** `state ID` parsed (undefined when the call fails or prints no JSON). */
  async state(id: string, quiet = false): Promise<State | undefined> {
    const r = await this.rt.call(['state', id], { poll: quiet });
    if (r.code !== 0) {
      if (!quiet) this.observe(`state-failed:${id}`, errorClass(r));
      return undefined;
    }
    try {
      return JSON.parse(r.stdout) as State;
    } catch {
      if (!quiet) this.check(false, `state ${id}: stdout is not JSON: ${r.stdout.slice(0, 200)}`);
      return undefined;
    }
  }

  /** `exec FLAGS ID CMD...` with stdout/stderr captured to files (read back into the result). */
  async exec(id: string, flags: string[], cmd: string[], opts: CallOptions = {}): Promise<CallResult> {
    const n = this.seq++;
    const outPath = join(this.dir, `exec${n}.out`);
    const errPath = join(this.dir, `exec${n}.err`);
    const out = openSync(outPath, 'a');
    const err = openSync(errPath, 'a');
    let r: CallResult;
    try {
      r = await this.rt.call(['exec', ...flags, id, ...cmd], { stdin: 'ignore', stdout: out, stderr: err, ...opts });
    } finally {
      closeSync(out);
      closeSync(err);
    }
    r.stdout = readText(outPath);
    r.stderr = readText(errPath);
    return r;
  }

  // ---- hooks and host helpers ----------------------------------------------------------------------

  /** A host-side hook that appends its argv/stdin to `log` and then runs `actions` (exit:N, sleep:MS). */
  hook(name: string, log: string, actions: string[] = [], extra: Partial<Hook> = {}): Hook {
    return { path: PROBE_BIN, args: ['probe', 'hook', name, log, ...actions], ...extra };
  }

  /** Starts `probe recv-fd SOCK MODE ...` on the host and waits until it listens. */
  async receiver(mode: 'console' | 'seccomp', extra: string[] = []): Promise<Receiver> {
    const sock = join(this.dir, `${mode}-${this.seq++}.sock`);
    const outPath = join(this.dir, `${mode}-${this.seq++}.out`);
    const out = openSync(outPath, 'a');
    const call = startProcess(PROBE_BIN, ['recv-fd', sock, mode, 'timeout:20', ...extra], { stdout: out, stderr: out, timeoutMs: 25_000 });
    closeSync(out);
    this.defer(() => call.kill('SIGKILL'));
    const rec = new Receiver(sock, outPath, call);
    const end = Date.now() + 3000;
    while (!rec.lines().some((l) => 'listening' in l)) {
      if (Date.now() > end) this.fail(`probe recv-fd did not start listening: ${readText(outPath)}`);
      await sleep(10);
    }
    return rec;
  }

  // ---- logs -----------------------------------------------------------------------------------------

  /** Parsed lines of the case's --log file. */
  logLines(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const l of readText(this.logFile).split('\n')) {
      if (!l.trim()) continue;
      try {
        out.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        out.push({ unparsable: l });
      }
    }
    return out;
  }

  // ---- teardown --------------------------------------------------------------------------------------

  async runDefers(): Promise<string[]> {
    const problems: string[] = [];
    while (this.defers.length) {
      const fn = this.defers.pop();
      try {
        await fn?.();
      } catch (e) {
        problems.push(`teardown step failed: ${String(e)}`);
      }
    }
    return problems;
  }

  /** Host pids of this case still alive (not zombies). */
  livePids(): number[] {
    return [...this.pids].filter((p) => {
      const st = procStat(p);
      return st !== undefined && st.state !== 'Z' && st.state !== 'X';
    });
  }
}

export class Receiver {
  constructor(
    readonly sock: string,
    readonly outPath: string,
    readonly call: RunningCall,
  ) {}

  lines(): Report[] {
    return jsonLines(readText(this.outPath));
  }

  raw(): string {
    return readText(this.outPath);
  }

  /** Waits for the receiver to exit (it ends when the pty/notify fd has no users left). */
  async finished(timeoutMs = 10_000): Promise<Report[]> {
    const t = setTimeout(() => this.call.kill('SIGKILL'), timeoutMs);
    await this.call.done;
    clearTimeout(t);
    return this.lines();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The class of an error message, so wording differences between runtimes compare as equal. */
export function errorClass(r: CallResult): string {
  if (r.timedOut) return 'timeout';
  if (r.code === 0) return 'none';
  const text = `${r.stderr}\n${r.stdout}`.toLowerCase();
  if (/incorrect usage|requires (a minimum of|exactly) \d+ argument|missing .*argument|^usage:/m.test(text)) return 'usage';
  if (/does not exist|no such container|container .*not found/.test(text)) return 'does-not-exist';
  if (/already exists|with id exists|exists/.test(text)) return 'exists';
  if (/not running|not started|already finished|no such process|is stopped|has stopped/.test(text)) return 'not-running';
  if (/is running|still running|not stopped|cannot delete/.test(text)) return 'is-running';
  if (/invalid|unknown|bad |parse|required|must|malformed|unmarshal|not supported/.test(text)) return 'invalid';
  if (/permission denied|operation not permitted/.test(text)) return 'permission';
  if (/no such file or directory/.test(text)) return 'no-such-file';
  return 'other';
}

export function existsPath(p: string): boolean {
  return existsSync(p);
}

export { clone };
