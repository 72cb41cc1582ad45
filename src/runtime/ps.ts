import type { Context } from '../cli/context.ts';
import { NotImplementedError } from '../errors.ts';

export async function containerProcesses(_ctx: Context, _id: string, _format: string, _args: string[]): Promise<void> {
  throw new NotImplementedError('ps');
}
