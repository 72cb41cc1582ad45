import { HakoError } from '../errors.ts';

// Same rule as runc: letters, digits, `_`, `+`, `-`, `.`; never `.` or `..`. With no `/`
// an id can never name anything outside --root.
const ID_PATTERN = /^[\w+.-]+$/;

/**
 * The longest id: NAME_MAX (255), the longest file name Linux takes. An id names a folder under
 * --root and, without cgroupsPath, the container's cgroup; a longer one could only fail later in
 * mkdir (ENAMETOOLONG). runc 1.1.5 has no length rule and fails there.
 */
export const MAX_ID_LENGTH = 255;

export function isValidId(name: string): boolean {
  return name.length <= MAX_ID_LENGTH && ID_PATTERN.test(name) && name !== '.' && name !== '..';
}

export function validateId(id: string | undefined): string {
  if (id === undefined || id === '') throw new HakoError('container id cannot be empty');
  if (id.length > MAX_ID_LENGTH) {
    throw new HakoError(`invalid id format: ${id.slice(0, 32)}… is ${id.length} characters long, at most ${MAX_ID_LENGTH} are allowed`);
  }
  if (!ID_PATTERN.test(id) || id === '.' || id === '..') {
    throw new HakoError(`invalid id format: ${id}`);
  }
  return id;
}
