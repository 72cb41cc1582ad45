// `hako state` and `hako list`: the OCI state document, in runc's field order and shape.
import type { ContainerState } from '../plan/types.ts';
import type { Context } from './context.ts';
import type { ContainerRecord } from '../state/record.ts';
import { statusOf, type ContainerStatus } from './status.ts';

export interface OciState {
  ociVersion: string;
  id: string;
  pid: number;
  status: ContainerStatus;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  owner: string;
}

/** `owner`: runc's `state` leaves it empty and only `list` fills it in; hako does the same. */
export function ociState(record: ContainerRecord, containerDir: string, withOwner = false): OciState {
  const status = statusOf(record, containerDir);
  const state: OciState = {
    ociVersion: record.ociVersion,
    id: record.id,
    // runc reports 0 once the init is gone, so a client never signals a recycled pid.
    pid: status === 'stopped' || status === 'creating' ? 0 : (record.init?.pid ?? 0),
    status,
    bundle: record.bundle,
    rootfs: record.rootfs,
    created: record.created,
    owner: withOwner ? record.owner : '',
  };
  if (record.annotations && Object.keys(record.annotations).length > 0) {
    // keep runc's key order: annotations before owner
    const { owner, ...rest } = state;
    return { ...rest, annotations: record.annotations, owner };
  }
  return state;
}

export function containerState(ctx: Context, id: string, withOwner = false): OciState {
  return ociState(ctx.store.read(id), ctx.store.dir(id), withOwner);
}

/** Every container in --root whose record can be read (a folder mid-create without a record is skipped). */
export function listContainers(ctx: Context): OciState[] {
  const states: OciState[] = [];
  for (const id of ctx.store.ids()) {
    try {
      states.push(containerState(ctx, id, true));
    } catch {
      // not a container folder, or one being created or deleted right now
    }
  }
  return states;
}

/** runc's table: tab-separated columns padded to a minimum width of 12. */
export function formatTable(states: OciState[]): string {
  const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
  for (const s of states) rows.push([s.id, String(s.pid), s.status, s.bundle, s.created, s.owner]);
  const widths = rows[0]!.map((_, col) => Math.max(12, ...rows.map((r) => r[col]!.length + 3)));
  return rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!))).join('') + '\n').join('');
}

/** The state in-container hooks and a seccomp agent get: ociState's; the plan adds status, the init its pid. */
export function stateForInit(record: ContainerRecord, containerDir: string): ContainerState {
  const { status: _status, pid: _pid, ...state } = ociState(record, containerDir);
  return state;
}
