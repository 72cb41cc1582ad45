// Turns ajv errors into hako's lines: `config.json: mounts[3].destination: must be a string`.
// One line per fault, in the order ajv found them, in plain words, naming the field.
import type { ValidationError } from './generated/validators.js';

/** `linux.resources.memory.limit`, `mounts[3].destination`, `linux.sysctl["net.ipv4.ip_forward"]`. */
export function fieldPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** One problem line: `<source>: <field>: <words>`, or `<source>: <words>` for the document itself. */
export function problem(source: string, field: string, words: string): string {
  return field === '' ? `${source}: ${words}` : `${source}: ${field}: ${words}`;
}

/** The instance path of an ajv error as path segments, array indexes as numbers. */
function segmentsOf(instancePath: string, data: unknown): (string | number)[] {
  const out: (string | number)[] = [];
  let node: unknown = data;
  for (const raw of instancePath.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^\d+$/.test(key)) {
      out.push(Number(key));
      node = node[Number(key)];
    } else {
      out.push(key);
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return out;
}

const article = (type: string): string => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

/** Patterns of the schemas, in words. */
const patternWords: Record<string, string> = {
  '^RLIMIT_[A-Z]+$': 'must be an RLIMIT_* name such as RLIMIT_NOFILE',
  '^[0-9, -]*$': 'must be a CPU list such as 0-3,7',
  '^[1-9][0-9]*[KMG]B$': 'must be a page size such as 64KB, 2MB or 1GB',
  '^MB:[^\\n]*$': 'must start with MB: and hold no newline',
  '^CAP_[A-Z_]+$': 'must be a CAP_* name',
};

// The bounds of the spec's integer types; int64/uint64 bounds are not exact doubles, so they are named here.
const bounds = new Map<number, string>([
  [-2147483648, '-2147483648 (int32)'],
  [2147483647, '2147483647 (int32)'],
  [-(2 ** 63), '-9223372036854775808 (int64)'],
  [2 ** 63, '9223372036854775807 (int64)'],
  [65535, '65535 (uint16)'],
  [4294967295, '4294967295 (uint32)'],
  [2 ** 64, '18446744073709551615 (uint64)'],
]);

function limitWords(keyword: string, limit: number): string {
  if (keyword === 'minimum' && limit === 0) return 'must not be negative';
  const shown = bounds.get(limit) ?? String(limit);
  return keyword === 'minimum' ? `must be at least ${shown}` : `must be at most ${shown}`;
}

function words(e: ValidationError): string {
  const p = e.params;
  switch (e.keyword) {
    case 'type': {
      const types = String(p.type).split(',');
      return `must be ${types.map(article).join(' or ')}`;
    }
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a known property';
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map((v) => JSON.stringify(v));
      return `must be one of ${allowed.join(', ')}`;
    }
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`;
    case 'pattern':
      if (String(p.pattern).startsWith('^(0|[1-9][0-9]*)\\.')) return 'must be a SemVer 2.0.0 version such as 1.2.0';
      return patternWords[String(p.pattern)] ?? `must match the pattern ${String(p.pattern)}`;
    case 'minimum':
    case 'maximum':
      return limitWords(e.keyword, Number(p.limit));
    case 'exclusiveMinimum':
      return `must be greater than ${String(p.limit)}`;
    case 'exclusiveMaximum':
      return `must be less than ${String(p.limit)}`;
    case 'minItems':
      return Number(p.limit) === 1 ? 'must be a non-empty array' : `must have at least ${String(p.limit)} items`;
    case 'maxItems':
      return `must have at most ${String(p.limit)} items`;
    case 'minLength':
      return Number(p.limit) === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters long`;
    case 'minProperties':
      return `must have at least ${String(p.limit)} properties`;
    default:
      return e.message ?? `is not valid (${e.keyword})`;
  }
}

export interface FormatOptions {
  /** Lines to write out; the rest are counted in a last `… and N more problems` line. */
  limit: number;
  /** The validator stopped early (validationTruncated()): the count is a lower bound. */
  truncated?: boolean;
}

/**
 * The ajv errors of one validation as problem lines, duplicates removed: the first `limit` of
 * them, then a line counting the rest.
 */
export function formatSchemaErrors(
  errors: readonly ValidationError[],
  data: unknown,
  source: string,
  options: FormatOptions = { limit: Infinity },
): string[] {
  // Linear in the number of errors (a config with 32,000 bad array items gives as many): a Set
  // for the duplicates, errors grouped by instance path for the `anyOf` branches.
  const lines = new Set<string>();
  const consumed = new Set<ValidationError>();
  const oneOfWords = new Map<ValidationError, string>();
  const byPath = new Map<string, ValidationError[]>();
  for (const e of errors) {
    const group = byPath.get(e.instancePath);
    if (group) group.push(e);
    else byPath.set(e.instancePath, [e]);
  }
  // `anyOf` whose branches only list required properties means "set at least one of": say so once.
  // Any other `anyOf` is left to the errors of its branches.
  for (const e of errors) {
    if (e.keyword !== 'anyOf') continue;
    const branchPrefix = `${e.schemaPath}/`;
    const branches = (byPath.get(e.instancePath) ?? []).filter((b) => b.schemaPath.startsWith(branchPrefix));
    if (branches.length > 0 && branches.every((b) => b.keyword === 'required')) {
      for (const b of branches) consumed.add(b);
      oneOfWords.set(e, `must set at least one of ${branches.map((b) => String(b.params.missingProperty)).join(', ')}`);
    } else {
      consumed.add(e);
    }
  }
  let unshown = 0;
  for (const e of errors) {
    if (consumed.has(e)) continue;
    // `if` says which branch failed; the branch's own errors say why.
    if (e.keyword === 'if') continue;
    // Past the limit, only count (duplicates of shown lines included: a close upper bound).
    if (lines.size >= options.limit) {
      unshown++;
      continue;
    }
    const segments = segmentsOf(e.instancePath, data);
    let text: string;
    if (e.keyword === 'anyOf') {
      text = oneOfWords.get(e)!;
    } else if (e.keyword === 'required') {
      segments.push(String(e.params.missingProperty));
      text = words(e);
    } else if (e.keyword === 'additionalProperties') {
      segments.push(String(e.params.additionalProperty));
      text = words(e);
    } else {
      text = words(e);
    }
    lines.add(problem(source, fieldPath(segments), text));
  }
  const out = [...lines];
  if (unshown > 0 || options.truncated) {
    out.push(`… and ${options.truncated ? 'at least ' : ''}${unshown} more problem${unshown === 1 ? '' : 's'}`);
  }
  return out;
}
