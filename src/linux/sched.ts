// sched_setaffinity(2) for another process (the executor of `hako exec`, before it joins the
// container's cgroup: process.execCPUAffinity.initial).
import { errnoName, lastErrno, libcFunction } from './libc.ts';

export async function setAffinity(pid: number, mask: Uint8Array): Promise<void> {
  const fn = await libcFunction('int sched_setaffinity(int pid, size_t cpusetsize, const void *mask)');
  if ((fn(pid, mask.length, Buffer.from(mask)) as number) < 0) throw new Error(`sched_setaffinity: ${errnoName(lastErrno()).text}`);
}
