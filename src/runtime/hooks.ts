// OCI hooks that run in the runtime's namespaces (config.md "POSIX-platform Hooks"):
//   createRuntime, prestart  during create, after the mounts and before pivot_root (the init waits
//                            at the plan's sync point meanwhile); a failure fails create
//   poststart                after start released the init; a failure is a warning
//   poststop                 after the container is deleted, before delete returns; a failure is a warning
// Each hook gets the container's state JSON on stdin. createContainer and startContainer run
// inside the container: the init runs them (run_hook steps of the plan, native/executor/hook_ops.c).
import { HakoError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import type { Hook, Hooks } from '../spec/types.ts';
import type { OciState } from './state.ts';

export type RuntimeHookKind = 'createRuntime' | 'prestart' | 'poststart' | 'poststop';

function envObject(env: string[] | undefined): NodeJS.ProcessEnv | undefined {
  // No `env` in the hook: it inherits the runtime's environment, as with runc.
  if (!env) return undefined;
  const out: NodeJS.ProcessEnv = {};
  for (const kv of env) {
    const eq = kv.indexOf('=');
    if (eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** Runs one hook to completion; rejects with its exit status and output. */
async function runHook(hook: Hook, label: string, state: OciState): Promise<void> {
  // Loaded here: child_process (and net under it) costs ~3 ms, and most containers have no hooks.
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const [argv0 = hook.path, ...args] = hook.args ?? [hook.path];
    const child = spawn(hook.path, args, { argv0, env: envObject(hook.env), stdio: ['pipe', 'pipe', 'pipe'] });
    const output: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => output.push(b));
    child.stderr.on('data', (b: Buffer) => output.push(b));
    let timedOut = false;
    const timer =
      hook.timeout === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, hook.timeout * 1000);
    child.stdin.on('error', () => {
      // a hook that does not read its stdin closes it early: not an error
    });
    child.stdin.end(JSON.stringify(state));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new HakoError(`${label}: ${hook.path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const text = Buffer.concat(output).toString('utf8').trim();
      const why = timedOut ? `ran past its timeout of ${hook.timeout}s` : signal ? `killed by ${signal}` : `exit status ${code}`;
      reject(new HakoError(`${label}: ${hook.path}: ${why}${text ? `: ${text}` : ''}`));
    });
  });
}

/** Runs the hooks of one kind in order; the first failure stops the rest and is thrown. */
export async function runHooks(hooks: Hooks | undefined, kind: RuntimeHookKind, state: OciState): Promise<void> {
  const list = hooks?.[kind] ?? [];
  for (const [i, hook] of list.entries()) await runHook(hook, `hooks.${kind}[${i}]`, state);
}

/** For hooks whose failure the spec makes a warning (poststart, poststop). */
export async function runHooksWarning(hooks: Hooks | undefined, kind: 'poststart' | 'poststop', state: OciState, logger: Logger): Promise<void> {
  const list = hooks?.[kind] ?? [];
  for (const [i, hook] of list.entries()) {
    try {
      await runHook(hook, `hooks.${kind}[${i}]`, state);
    } catch (err) {
      logger.warn((err as Error).message);
    }
  }
}
