// The executor's channel from the Node-API addon (native/chanpair/) and from koffi (without the
// addon): connected SOCK_SEQPACKET sockets that keep packet boundaries, both close-on-exec.
import { closeSync, existsSync, readFileSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seqpacketPair } from '../../src/linux/chanpair.ts';

const nativeBuild = join(import.meta.dirname, '../../native/build');
const cloexec = (fd: number) => (parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8) & 0o2000000) !== 0;

function checkPair([a, b]: [number, number]): void {
  try {
    expect(cloexec(a) && cloexec(b)).toBe(true);
    writeSync(a, Buffer.from('first'));
    writeSync(a, Buffer.from('second packet'));
    const buf = Buffer.alloc(64);
    // one read, one packet: a stream socket would return both at once
    expect(buf.subarray(0, readSync(b, buf, 0, 64, null)).toString()).toBe('first');
    expect(buf.subarray(0, readSync(b, buf, 0, 64, null)).toString()).toBe('second packet');
  } finally {
    closeSync(a);
    closeSync(b);
  }
}

describe('seqpacketPair', () => {
  it.skipIf(!existsSync(join(nativeBuild, 'hako-chanpair.node')))('from the addon beside the executor', async () => {
    checkPair(await seqpacketPair(nativeBuild));
  });

  it('from koffi where there is no addon', async () => {
    checkPair(await seqpacketPair('/nonexistent'));
  });
});
