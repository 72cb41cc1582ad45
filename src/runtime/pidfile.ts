import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { HakoError, describeSystemError } from '../errors.ts';

/**
 * Writes the pid as digits only, no newline, atomically (temp file + rename): containerd's shim
 * and conmon read the file as soon as `create` exits and parse it as a bare integer.
 */
export function writePidFile(path: string, pid: number): void {
  const target = resolve(path);
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  try {
    // O_EXCL: a name planted at the predictable temp path (a symlink, say) is never followed;
    // a leftover of an earlier hako with the same pid is removed (unlink, never followed) once.
    const write = () => writeFileSync(tmp, String(pid), { mode: 0o644, flag: 'wx' });
    try {
      write();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      rmSync(tmp, { force: true });
      write();
    }
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new HakoError(`--pid-file ${path}: ${describeSystemError(err)}`, { cause: err });
  }
}
