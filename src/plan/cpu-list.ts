// CPU lists ("0-3,7", as in cpuset and process.execCPUAffinity) as sched_setaffinity(2) masks.
import { configError } from '../errors.ts';

/** Bits for CPUs 0..1023 (glibc's CPU_SETSIZE). */
export const CPU_MASK_BYTES = 128;

/** The mask of a CPU list; `undefined` gives every CPU (the kernel keeps the cgroup's cpuset of it). */
export function cpuListMask(list: string | undefined, field: string): Uint8Array {
  const mask = new Uint8Array(CPU_MASK_BYTES);
  if (list === undefined) return mask.fill(0xff);
  const set = (cpu: number) => {
    if (cpu >= CPU_MASK_BYTES * 8) throw configError(field, `CPU ${cpu} is beyond the ${CPU_MASK_BYTES * 8} CPUs hako can name`);
    mask[cpu >> 3]! |= 1 << (cpu & 7);
  };
  for (const part of list.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw configError(field, `${JSON.stringify(part)} is not a CPU or a range of CPUs`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw configError(field, `${part}: the range ends before it starts`);
    for (let cpu = from; cpu <= to; cpu++) set(cpu);
  }
  if (mask.every((b) => b === 0)) throw configError(field, 'names no CPU');
  return mask;
}
