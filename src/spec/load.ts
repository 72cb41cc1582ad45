// Reading and checking the documents of the runtime-spec: config.json (every create), the resources of
// `update --resources`, a process.json of `exec --process`, and the state and features documents hako prints.
// Validators are precompiled by scripts/build-validators.mjs: nothing is compiled here.
import { constants as fsConstants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, describeSystemError, MAX_SHOWN_PROBLEMS } from '../errors.ts';
import {
  validateConfig,
  validateFeatures as featuresValidator,
  validateProcess as processValidator,
  validateResources as resourcesValidator,
  validateState as stateValidator,
  validationTruncated,
} from './generated/validators.js';
import type { Validator } from './generated/validators.js';
import { parseJson } from './json.ts';
import { formatSchemaErrors } from './messages.ts';
import { semanticProblems } from './semantic.ts';
import type { SemanticOptions } from './semantic.ts';
import type { Features, LinuxResources, Process, Spec, State } from './types.ts';

export type LoadOptions = Pick<SemanticOptions, 'requireProcess'>;

/**
 * The largest config.json hako reads: 16 MiB, containerd's gRPC message limit (no config an engine
 * sends through containerd can be larger), and hundreds of times any real config (tens of KB).
 */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

const FILE_TYPES: [number, string][] = [
  [fsConstants.S_IFDIR, 'a directory'],
  [fsConstants.S_IFCHR, 'a character device'],
  [fsConstants.S_IFBLK, 'a block device'],
  [fsConstants.S_IFIFO, 'a FIFO'],
  [fsConstants.S_IFSOCK, 'a socket'],
];

/**
 * The text of a document file, refused unless it is a regular file of at most MAX_CONFIG_BYTES:
 * opened non-blocking (a FIFO with no writer must not hang the open; libuv adds O_CLOEXEC), checked with fstat on the
 * opened fd (a symlink to /dev/zero is seen as the device), and read no further than the limit.
 */
export async function readDocumentFile(path: string, source: string): Promise<string> {
  let fh: FileHandle;
  try {
    fh = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (err) {
    throw new ConfigError([`${source}: cannot read ${path}: ${describeSystemError(err)}`], { cause: err });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      const kind = FILE_TYPES.find(([t]) => (st.mode & fsConstants.S_IFMT) === t)?.[1] ?? 'of an unknown type';
      throw new ConfigError([`${source}: ${path} is ${kind}, not a regular file`]);
    }
    const tooBig = () => new ConfigError([`${source}: ${path} is larger than ${MAX_CONFIG_BYTES / (1024 * 1024)} MiB`]);
    if (st.size > MAX_CONFIG_BYTES) throw tooBig();
    // The size can change under us: stop reading one chunk past the limit, whatever fstat said.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.max(64 * 1024, Math.min(st.size + 1, MAX_CONFIG_BYTES + 1)));
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > MAX_CONFIG_BYTES) throw tooBig();
      chunks.push(chunk.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError([`${source}: cannot read ${path}: ${describeSystemError(err)}`], { cause: err });
  } finally {
    await fh.close();
  }
}

/** Reads, parses and checks `<bundleDir>/config.json`. Throws ConfigError listing every problem. */
export async function loadConfig(bundleDir: string, options: LoadOptions = {}): Promise<Spec> {
  const text = await readDocumentFile(join(bundleDir, 'config.json'), 'config.json');
  return parseConfig(text, bundleDir, options);
}

/** loadConfig without the read: parses `text` as the config.json of the bundle `bundleDir`. */
export function parseConfig(text: string, bundleDir: string, options: LoadOptions = {}): Spec {
  const spec = check(validateConfig, parseJson(text, 'config.json'), 'config.json');
  const problems = semanticProblems(spec, bundleDir, options);
  if (problems.length > 0) throw new ConfigError(problems);
  return spec;
}

/** Checks a LinuxResources object (`update --resources`); `source` names it in messages. */
export function validateResources(obj: unknown, source: string): LinuxResources {
  return check(resourcesValidator, obj, source);
}

/** Checks a Process object (`exec --process`): the schema, then args and cwd as for config.json. */
export function validateProcess(obj: unknown, source: string): Process {
  const proc = check(processValidator, obj, source);
  const problems = semanticProblems({ ociVersion: '1.0.0', process: proc, root: { path: '/' } }, '/', { source }).map(
    (line) => line.replace(`${source}: process.`, `${source}: `),
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return proc;
}

/** Checks a state document (runtime.md "State"). */
export function validateState(obj: unknown, source = 'state'): State {
  return check(stateValidator, obj, source);
}

/** Checks a features document (features.md). */
export function validateFeatures(obj: unknown, source = 'features'): Features {
  return check(featuresValidator, obj, source);
}

function check<T>(validate: Validator<T>, data: unknown, source: string): T {
  validationTruncated(); // forget a flag left by a validation whose errors nobody formatted
  if (validate(data)) return data;
  const truncated = validationTruncated();
  throw new ConfigError(formatSchemaErrors(validate.errors ?? [], data, source, { limit: MAX_SHOWN_PROBLEMS, truncated }));
}
