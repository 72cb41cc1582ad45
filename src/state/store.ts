// The container store under --root: one folder per container id holding state.json (the
// runtime's record of the container), the exec fifo while the container is `created`, and a
// lock file while a command acts on it. state.json is written atomically (temp + rename), so a
// reader never sees half a record; mutations take the lock, so two commands acting on one id
// at once run one after the other.
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describeSystemError, HakoError } from '../errors.ts';
import { isValidId, validateId } from './ids.ts';
import type { ContainerRecord } from './record.ts';

const STATE_FILE = 'state.json';
const LOCK_FILE = 'lock';
const LOCK_TIMEOUT_MS = 10_000;

export function doesNotExist(id: string): HakoError {
  return new HakoError(`container "${id}" does not exist`);
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

/** An fs failure under --root as one line naming the path (EROFS, ENOSPC, ENOTDIR…), never a stack trace. */
function storeError(what: string, path: string, err: unknown): HakoError {
  return new HakoError(`${what} ${path}: ${describeSystemError(err)}`, { cause: err });
}

/**
 * mkdir -p of --root, one level at a time: node's recursive mkdir says ENOENT where the kernel said
 * EROFS, and a --root that is a file must say so.
 */
function makeRoot(root: string, dir = root): void {
  try {
    mkdirSync(dir, { mode: 0o711 });
    return;
  } catch (err) {
    if (isErrno(err, 'ENOENT') && dirname(dir) !== dir) {
      makeRoot(root, dirname(dir));
      return makeRoot(root, dir);
    }
    if (!isErrno(err, 'EEXIST')) throw storeError(`--root ${root}: mkdir`, dir, err);
  }
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    throw storeError(`--root ${root}: stat`, dir, err);
  }
  if (!isDir) throw new HakoError(`--root ${root}: ${dir} is not a directory`);
}

/**
 * Creates the lock file holding this process's pid, atomically: the pid is written to a file of
 * its own, then hard-linked to the lock's name (EEXIST when held), so a runtime killed at any point
 * never leaves an empty lock that no one could take over.
 */
function writeLock(path: string): void {
  const tmp = `${path}.${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, String(process.pid));
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } finally {
    unlinkSync(tmp);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrno(err, 'EPERM');
  }
}

export class StateStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  dir(id: string): string {
    return join(this.root, validateId(id));
  }

  /**
   * Claims an id for a new container: its folder is created with its lock held by this process
   * (release it with withLock(id, fn, { held: true })), or the id is taken. A runtime killed
   * before it wrote the record leaves a folder whose lock holder is dead: delete --force removes it.
   */
  reserve(id: string): string {
    const dir = this.dir(id);
    makeRoot(this.root);
    try {
      mkdirSync(dir, { mode: 0o711 });
    } catch (err) {
      if (isErrno(err, 'EEXIST')) throw new HakoError(`container with id exists: ${id}`);
      throw storeError('cannot create the state folder', dir, err);
    }
    try {
      writeLock(join(dir, LOCK_FILE));
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw storeError(`container ${id}: cannot lock`, join(dir, LOCK_FILE), err);
    }
    return dir;
  }

  /** Whether the id has a folder, with or without a valid record (a create killed early leaves one without). */
  hasFolder(id: string): boolean {
    try {
      return statSync(this.dir(id)).isDirectory();
    } catch {
      return false;
    }
  }

  /** The record, or undefined when there is none or it cannot be parsed. */
  readIfValid(id: string): ContainerRecord | undefined {
    try {
      return this.read(id);
    } catch {
      return undefined;
    }
  }

  exists(id: string): boolean {
    try {
      readFileSync(join(this.dir(id), STATE_FILE));
      return true;
    } catch {
      return false;
    }
  }

  read(id: string): ContainerRecord {
    let text: string;
    try {
      text = readFileSync(join(this.dir(id), STATE_FILE), 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) throw doesNotExist(id);
      throw storeError('cannot read', join(this.dir(id), STATE_FILE), err);
    }
    try {
      return JSON.parse(text) as ContainerRecord;
    } catch (err) {
      throw storeError(`container ${id}: not a valid record:`, join(this.dir(id), STATE_FILE), err);
    }
  }

  write(record: ContainerRecord): void {
    const dir = this.dir(record.id);
    const tmp = join(dir, `.${STATE_FILE}.${process.pid}`);
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        const data = Buffer.from(JSON.stringify(record));
        for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, join(dir, STATE_FILE));
    } catch (err) {
      rmSync(tmp, { force: true });
      throw storeError(`container ${record.id}: cannot write`, join(dir, STATE_FILE), err);
    }
  }

  /** Ids of every folder in the store (sorted), whether or not its record is readable. */
  ids(): string[] {
    try {
      return readdirSync(this.root, { withFileTypes: true })
        .filter((e) => e.isDirectory() && isValidId(e.name)) // containers are folders (the seccomp cache is files)
        .map((e) => e.name)
        .sort();
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return [];
      throw storeError('--root: cannot list', this.root, err);
    }
  }

  remove(id: string): void {
    try {
      rmSync(this.dir(id), { recursive: true, force: true });
    } catch (err) {
      throw storeError(`container ${id}: cannot remove`, this.dir(id), err);
    }
  }

  /**
   * Runs `fn` holding the container's lock. The lock is a file holding the holder's pid, created
   * atomically (writeLock); a lock whose holder died (a runtime killed mid-command) is taken over.
   * `held`: the caller holds it already (reserve), so only the release is left to do.
   */
  async withLock<T>(id: string, fn: () => Promise<T> | T, opts: { held?: boolean } = {}): Promise<T> {
    const path = join(this.dir(id), LOCK_FILE);
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    for (; !opts.held; ) {
      try {
        writeLock(path);
        break;
      } catch (err) {
        if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) throw doesNotExist(id);
        if (!isErrno(err, 'EEXIST')) throw storeError(`container ${id}: cannot lock`, path, err);
      }
      let holder: number;
      try {
        holder = Number(readFileSync(path, 'utf8'));
      } catch {
        continue; // released between our open and read
      }
      if (holder > 0 && !processAlive(holder)) {
        // Stale: take it over by renaming it away first, so two takers can't both unlink a fresh lock.
        try {
          renameSync(path, `${path}.stale.${process.pid}`);
          unlinkSync(`${path}.stale.${process.pid}`);
        } catch {
          // someone else took it over; try again
        }
        continue;
      }
      if (Date.now() > deadline) throw new HakoError(`container ${id} is busy: another command (pid ${holder}) holds its lock`);
      await new Promise((r) => setTimeout(r, 5));
    }
    try {
      return await fn();
    } finally {
      try {
        unlinkSync(path);
      } catch {
        // the folder was removed (delete): nothing to release
      }
    }
  }
}
