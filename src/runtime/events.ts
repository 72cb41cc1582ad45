// `hako events`: runc's events. `--stats` prints one stats event and exits; otherwise a stats event
// every `--interval`, and an `oom` event each time the OOM killer runs in the container's cgroup
// (the oom_kill counter of v1 memory.oom_control / v2 memory.events, polled), one JSON object a
// line, until the container stops or its cgroup is gone.
import { oomKills, readStats, toJson } from '../cgroups/stats.ts';
import { HakoError } from '../errors.ts';
import type { Context } from './context.ts';
import { statusOf } from './status.ts';

export interface EventsOptions {
  /** One stats event, then exit. */
  stats: boolean;
  /** Milliseconds between stats events. */
  intervalMs: number;
  /** How often the OOM counter is read (default 10 ms). */
  oomPollMs?: number;
}

/** Go's time.ParseDuration, as runc reads --interval: `5s`, `100ms`, `1m30s`, `1.5h`. */
export function parseDuration(text: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, '\u00b5s': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|ms|s|m|h)/gy;
  let ms = 0;
  let pos = 0;
  const sign = text.startsWith('-') ? -1 : 1;
  const body = text.replace(/^[-+]/, '');
  if (body === '0') return 0;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    ms += Number(m[1]) * units[m[2]!]!;
    pos = re.lastIndex;
  }
  if (body === '' || pos !== body.length) throw new HakoError(`invalid value "${text}" for flag --interval: time: invalid duration "${text}"`);
  return sign * ms;
}

export async function containerEvents(ctx: Context, id: string, opts: EventsOptions, write: (line: string) => void = (l) => process.stdout.write(l)): Promise<void> {
  if (!(opts.intervalMs > 0)) throw new HakoError('duration interval must be greater than 0');
  const record = ctx.store.read(id);
  const dir = ctx.store.dir(id);
  const status = () => statusOf(record, dir);
  // runc's words.
  if (status() === 'stopped') throw new HakoError(`container with id ${id} is not running`);
  const cgroups = record.cgroups;
  if (!cgroups) throw new HakoError(`container ${id} has no cgroup: no statistics`);
  const { mode, paths } = cgroups;
  const emit = (event: Record<string, unknown>) => write(`${toJson(event)}\n`);
  const stats = () => emit({ type: 'stats', id, data: readStats(mode, paths) });
  if (opts.stats) {
    stats();
    return;
  }
  // Often: an OOM-killed container can be stopped and deleted (its cgroup and counter gone) within
  // a few ms of the kill when the runtime answers warm; the counter must be read before that.
  const pollMs = Math.min(opts.oomPollMs ?? 10, opts.intervalMs);
  const first = oomKills(mode, paths);
  let kills = first ?? 0n;
  let nextStats = Date.now();
  for (;;) {
    // OOM first: a container killed by the OOM killer stops right after, and its event must not be lost.
    if (first !== undefined) {
      const now = oomKills(mode, paths);
      if (now === undefined) return; // the cgroup is gone (deleted)
      for (; kills < now; kills++) emit({ type: 'oom', id });
    }
    if (status() === 'stopped') return;
    if (Date.now() >= nextStats) {
      stats();
      nextStats = Date.now() + opts.intervalMs;
    }
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(pollMs, nextStats - Date.now()))));
  }
}
