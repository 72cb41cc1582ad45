import type { Context } from '../cli/context.ts';
import type { RunFlags } from '../cli/commands/lifecycle.ts';
import { NotImplementedError } from '../errors.ts';

export async function runContainer(_ctx: Context, _id: string, _flags: RunFlags): Promise<number> {
  throw new NotImplementedError('run (the executor is being built)');
}
