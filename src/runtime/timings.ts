// Where a create (or a run) spent its time: `hako create --timings` and `--debug`.
//
// Two kinds of spans, all on CLOCK_MONOTONIC (process.hrtime reads it, and so does the executor):
//  - node's phases, one after the other from the process's start (mark() ends the running phase),
//    so they add up to the wall time of the call;
//  - the executor's steps and phases, as it reported them (start and end of each): they fall inside
//    node's phases (mostly "executor: running the plan"), and the executor starts while node
//    still writes cgroup.procs, so they are shown under node's phases, never added to them.

export interface Span {
  group: string;
  name: string;
  start: bigint;
  end: bigint;
}

export const ms = (from: bigint, to: bigint): number => Number(to - from) / 1e6;

/** When this process started, on process.hrtime's clock (node's own start time, before it loads any JavaScript). */
export function processStart(): bigint {
  return process.hrtime.bigint() - BigInt(Math.round(process.uptime() * 1e9));
}

export class Timings {
  /** node's phases, contiguous. */
  readonly phases: Span[] = [];
  /** The executor's steps and phases, in the order reported. */
  readonly executor: Span[] = [];
  readonly origin: bigint;
  private last: bigint;
  /** Called with every span as it is recorded (--debug logs them). */
  onSpan?: (span: Span) => void;

  /** @param origin the start of the first phase (default: this process's start) */
  constructor(origin: bigint = processStart()) {
    this.origin = origin;
    this.last = origin;
  }

  /** Ends the phase that ran since the previous mark (or the origin): it was `group: name`. */
  mark(group: string, name: string): void {
    const now = process.hrtime.bigint();
    const span = { group, name, start: this.last, end: now };
    this.last = now;
    this.phases.push(span);
    this.onSpan?.(span);
  }

  /** A span the executor measured (its clock is this one). */
  addExecutor(group: string, name: string, start: bigint, end: bigint): void {
    const span = { group, name, start, end };
    this.executor.push(span);
    this.onSpan?.(span);
  }

  /** The end of the last phase: the wall time covered, from the origin. */
  get wallMs(): number {
    return ms(this.origin, this.last);
  }

  /**
   * The report --timings prints: node's phases grouped and sorted by cost, each group's phases
   * sorted too; the executor's spans under it, grouped the same way, the top `top` of each group
   * shown and the rest summed.
   */
  render(title: string, top = 8): string {
    const lines = [`${title}: ${this.wallMs.toFixed(1)} ms from node's start (CLOCK_MONOTONIC; node's phases add up to it)`];
    const fmt = (n: number) => n.toFixed(2).padStart(8);
    const section = (spans: Span[], indent: string, concurrent: boolean) => {
      const groups = new Map<string, Span[]>();
      for (const s of spans) groups.set(s.group, [...(groups.get(s.group) ?? []), s]);
      const total = (xs: Span[]) => xs.reduce((sum, s) => sum + ms(s.start, s.end), 0);
      const sorted = [...groups].sort((a, b) => total(b[1]) - total(a[1]));
      for (const [group, xs] of sorted) {
        const count = xs.length > 1 ? ` (${xs.length}${concurrent ? ' spans' : ' phases'})` : '';
        lines.push(`${indent}${fmt(total(xs))} ms  ${group}${count}`);
        const items = [...xs].sort((a, b) => ms(b.start, b.end) - ms(a.start, a.end));
        for (const s of items.slice(0, top)) lines.push(`${indent}  ${fmt(ms(s.start, s.end))}     ${s.name}`);
        if (items.length > top) lines.push(`${indent}  ${fmt(total(items.slice(top)))}     ${items.length - top} more`);
      }
    };
    lines.push('node (one phase after the other):');
    section(this.phases, '  ', false);
    if (this.executor.length > 0) {
      lines.push('executor (its own clock; inside the phases above, partly concurrent with node):');
      section(this.executor, '  ', true);
    }
    return `${lines.join('\n')}\n`;
  }
}
