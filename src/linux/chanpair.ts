// The executor's channel: an AF_UNIX SOCK_SEQPACKET socketpair, both ends close-on-exec. node has
// no socketpair of its own; native/chanpair/ is a Node-API addon of one function that makes it
// (loaded with process.dlopen in ~0.3 ms), beside the executor in native/build/. Without the addon
// (not built, another platform) koffi makes it, as before: 4-7 ms to load koffi and libc through it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AF_UNIX, SOCK_CLOEXEC, SOCK_SEQPACKET, socketpair, systemError } from './libc.ts';

interface Addon {
  /** [fd, fd], or -errno */
  seqpacketPair(): [number, number] | number;
}

const ADDON = 'hako-chanpair.node';
const loaded = new Map<string, Addon | null>();

function addonIn(dir: string): Addon | null {
  let addon = loaded.get(dir);
  if (addon === undefined) {
    addon = null;
    const file = join(dir, ADDON);
    if (existsSync(file)) {
      try {
        const mod = { exports: {} as Addon };
        process.dlopen(mod, file);
        if (typeof mod.exports.seqpacketPair === 'function') addon = mod.exports;
      } catch {
        // a stale or foreign build: koffi below
      }
    }
    loaded.set(dir, addon);
  }
  return addon;
}

/** A SOCK_SEQPACKET socketpair, both ends close-on-exec; `nativeDir` is where the executor was built. */
export async function seqpacketPair(nativeDir: string): Promise<[number, number]> {
  const addon = addonIn(nativeDir);
  if (!addon) return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC);
  const pair = addon.seqpacketPair();
  if (typeof pair === 'number') throw systemError('socketpair', -pair);
  return pair;
}
