// Small synchronous helpers over cgroupfs files. Every failure becomes a HakoError whose
// message names the file and the errno text (`cgroup: write /sys/fs/cgroup/x/pids.max: invalid argument`),
// and keeps the node error as `cause` so callers can test `code`.

import { readFileSync, readdirSync, rmdirSync, mkdirSync, openSync, writeSync, closeSync, constants as fsConstants } from 'node:fs';
import { join } from 'node:path';
import { HakoError, describeSystemError } from '../errors.ts';

/** errno code of a node fs error, or undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err) {
    const c = (err as { code?: unknown }).code;
    if (typeof c === 'string') return c;
  }
  if (err instanceof HakoError) return errnoCode(err.cause);
  return undefined;
}

export function cgroupError(op: string, file: string, err: unknown): HakoError {
  return new HakoError(`cgroup: ${op} ${file}: ${describeSystemError(err)}`, { cause: err });
}

/** Contents of `dir/name`, trailing newline removed. Throws HakoError. */
export function readCgroupFile(dir: string, name: string): string {
  const file = join(dir, name);
  try {
    return readFileSync(file, 'utf8').replace(/\n$/, '');
  } catch (err) {
    throw cgroupError('read', file, err);
  }
}

/** Like readCgroupFile but undefined when the file does not exist (ENOENT/ENODEV). */
export function readCgroupFileIfExists(dir: string, name: string): string | undefined {
  try {
    return readFileSync(join(dir, name), 'utf8').replace(/\n$/, '');
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENODEV') return undefined;
    throw cgroupError('read', join(dir, name), err);
  }
}

/**
 * Open flags for cgroupfs writes: never O_CREAT (a missing file means a missing controller, and a
 * fixture tree must fail the same way), O_TRUNC so a plain file in a fixture holds only the value.
 */
const WRITE_FLAGS = fsConstants.O_WRONLY | fsConstants.O_TRUNC;

/** open + one write(2) + close: cgroupfs files take one value per write. */
function writeOnce(file: string, value: string): void {
  const fd = openSync(file, WRITE_FLAGS);
  try {
    writeSync(fd, value);
  } finally {
    closeSync(fd);
  }
}

/** One write(2) of `value` to `dir/name`. */
export function writeCgroupFile(dir: string, name: string, value: string): void {
  const file = join(dir, name);
  try {
    writeOnce(file, value);
  } catch (err) {
    throw cgroupError('write', file, err);
  }
}

/** Pids listed in `dir/cgroup.procs`; [] when the directory is gone. */
export function readProcs(dir: string): number[] {
  const text = readCgroupFileIfExists(dir, 'cgroup.procs');
  if (!text) return [];
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const n = Number.parseInt(line, 10);
    if (Number.isInteger(n) && n > 0) out.push(n);
  }
  return out;
}

/** Sub-cgroup directories of `dir` (not recursive); [] when `dir` is gone. */
export function subCgroups(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(dir, e.name));
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw cgroupError('read directory', dir, err);
  }
}

/** Pids in `dir` and every sub-cgroup below it (a container may create its own sub-cgroups). */
export function readProcsRecursive(dir: string): number[] {
  const out = readProcs(dir);
  for (const sub of subCgroups(dir)) out.push(...readProcsRecursive(sub));
  return out;
}

/** mkdir one level; true when this call created it, false when it existed. */
export function mkdirOne(dir: string): boolean {
  try {
    mkdirSync(dir, { mode: 0o755 });
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw cgroupError('create', dir, err);
  }
}

/** rmdir that reports ENOENT as success. Other errors are returned (not thrown) for the caller to decide. */
export function tryRmdir(dir: string): string | undefined {
  try {
    rmdirSync(dir);
    return undefined;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return undefined;
    return code ?? 'EIO';
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Blocking sleep, for the few places a synchronous API must wait (EINVAL retry on cgroup.procs). */
export function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Write a pid to `dir/cgroup.procs`. Measured on a 6.x kernel: the first migration after a quiet
 * spell costs 5-25 ms (the write side of cgroup_threadgroup_rwsem waits for an RCU grace period);
 * back-to-back ones (the other hierarchies of the same create) ~0.03 ms each. CLONE_INTO_CGROUP
 * (v2) or a `favordynmods` cgroup mount avoid it. EINVAL can mean the task is still TASK_NEW (just forked):
 * retry a few times like runc does, then report.
 */
export function writePid(dir: string, pid: number): void {
  const file = join(dir, 'cgroup.procs');
  for (let attempt = 0; ; attempt++) {
    try {
      writeOnce(file, String(pid));
      return;
    } catch (err) {
      if (errnoCode(err) === 'EINVAL' && attempt < 4) {
        sleepSync(30);
        continue;
      }
      // runc's words ("error adding pid N to cgroups"), which users and tests match.
      throw new HakoError(`cgroup: adding pid ${pid} to ${file}: ${describeSystemError(err)}`, { cause: err });
    }
  }
}
