// bin/hako's front saw the daemon end after it had accepted a call (HAKO_DAEMON_DIED): the call
// may be half done. Before the cold path runs it again, undo what the daemon did for this caller,
// so the call succeeds cold or fails, with nothing left behind.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HakoError } from '../../errors.ts';
import { Logger } from '../../log/logger.ts';
import type { Context } from '../../runtime/context.ts';
import { processIdentity } from '../../runtime/procfs.ts';
import { StateStore } from '../../state/store.ts';
import { isValidId } from '../../state/ids.ts';
import { callParts } from './policy.ts';

function lockHolderAlive(dir: string): boolean {
  try {
    const pid = Number(readFileSync(join(dir, 'lock'), 'utf8'));
    if (!(pid > 0)) return false;
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function recoverAfterDaemon(argv: string[]): Promise<void> {
  const call = callParts(argv);
  const detached = call.flags.has('d') || call.flags.has('detach');
  if (call.command === 'exec') {
    throw new HakoError('exec failed: the hako daemon ended during the call: the process may have started', { exitCode: 255 });
  }
  if (call.command !== 'create' && !(call.command === 'run' && detached)) return; // the others are safe to run again
  const id = call.positionals[0];
  if (id === undefined || !isValidId(id)) return;
  const store = new StateStore(resolve(call.root));
  if (!store.hasFolder(id)) return;
  const me = processIdentity(process.pid);
  const record = store.readIfValid(id);
  const mine = (who: { pid: number; startTime: number } | undefined) => who !== undefined && me !== undefined && who.pid === me.pid && who.startTime === me.startTime;
  // A folder without a record whose lock holder is gone is what a create killed right after claiming the id leaves.
  const ours = record ? mine(record.requestedBy) || mine(record.creator) : !lockHolderAlive(store.dir(id));
  if (!ours) return;
  const ctx: Context = { globals: { root: store.root, logFormat: 'text', debug: false, systemdCgroup: false }, logger: new Logger({ format: 'text', debug: false }), store };
  // delete --force kills a live creator: that is this very process (the front exec'd node in place)
  if (record && mine(record.creator)) {
    delete record.creator;
    store.write(record);
  }
  const { deleteContainer } = await import('../../runtime/delete.ts');
  await deleteContainer(ctx, id, true);
}
