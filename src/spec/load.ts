// Reading and checking the documents of the runtime-spec: config.json (every create), the resources of
// `update --resources`, a process.json of `exec --process`, and the state and features documents hako prints.
// Validators are precompiled by scripts/build-validators.mjs: nothing is compiled here.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, describeSystemError } from '../errors.ts';
import {
  validateConfig,
  validateFeatures as featuresValidator,
  validateProcess as processValidator,
  validateResources as resourcesValidator,
  validateState as stateValidator,
} from './generated/validators.js';
import type { Validator } from './generated/validators.js';
import { parseJson } from './json.ts';
import { formatSchemaErrors } from './messages.ts';
import { semanticProblems } from './semantic.ts';
import type { SemanticOptions } from './semantic.ts';
import type { Features, LinuxResources, Process, Spec, State } from './types.ts';

export type LoadOptions = Pick<SemanticOptions, 'requireProcess'>;

/** Reads, parses and checks `<bundleDir>/config.json`. Throws ConfigError listing every problem. */
export async function loadConfig(bundleDir: string, options: LoadOptions = {}): Promise<Spec> {
  let text: string;
  try {
    text = await readFile(join(bundleDir, 'config.json'), 'utf8');
  } catch (err) {
    throw new ConfigError([`config.json: cannot read ${join(bundleDir, 'config.json')}: ${describeSystemError(err)}`], { cause: err });
  }
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
  if (validate(data)) return data;
  throw new ConfigError(formatSchemaErrors(validate.errors ?? [], data, source));
}
