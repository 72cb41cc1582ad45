import type { Context } from '../cli/context.ts';
import { NotImplementedError } from '../errors.ts';

export async function pauseContainer(_ctx: Context, _id: string): Promise<void> {
  throw new NotImplementedError('pause');
}
export async function resumeContainer(_ctx: Context, _id: string): Promise<void> {
  throw new NotImplementedError('resume');
}
