import { HakoError } from '../errors.ts';

// Same rule as runc: letters, digits, `_`, `+`, `-`, `.`; never `.` or `..`. With no `/`
// an id can never name anything outside --root.
const ID_PATTERN = /^[\w+.-]+$/;

export function validateId(id: string | undefined): string {
  if (id === undefined || id === '') throw new HakoError('container id cannot be empty');
  if (!ID_PATTERN.test(id) || id === '.' || id === '..' || id.length > 1024) {
    throw new HakoError(`invalid id format: ${id}`);
  }
  return id;
}
