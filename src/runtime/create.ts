import type { Context } from '../cli/context.ts';
import type { CreateFlags } from '../cli/commands/lifecycle.ts';
import { NotImplementedError } from '../errors.ts';

export async function createContainer(_ctx: Context, _id: string, _flags: CreateFlags): Promise<void> {
  throw new NotImplementedError('create (the executor is being built)');
}
