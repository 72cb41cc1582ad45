// The front ⇄ daemon wire format (native/front/front.c is the other side).
// Request, once, front → daemon: u32 length, then NUL-terminated strings:
//   "hako-front/1", build id, cwd, argc, argv…, envc, env… ("K=V")
// Then frames both ways: u8 type, u32 length (little-endian), payload.
//   daemon → front: C cold, A accepted, O stdout, E stderr, F fork the executor (u32 n, path\0),
//                   K channel taken, X exit (u32)
//   front → daemon: P executor started (u32 pid or 0, u32 fd of our end or errno),
//                   W executor exited (i32 pid, i32 wait status)
export const MAGIC = 'hako-front/1';
const MAX_REQUEST = 16 << 20;

export interface Request {
  buildId: string;
  cwd: string;
  argv: string[];
  env: Record<string, string>;
}

export function frame(type: string, body: Buffer | string): Buffer {
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32LE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

export function parseRequest(body: Buffer): Request {
  const parts = body.toString('utf8').split('\0');
  let i = 0;
  const next = () => {
    if (i >= parts.length) throw new Error('short request');
    return parts[i++]!;
  };
  if (next() !== MAGIC) throw new Error('not a hako front');
  const buildId = next();
  const cwd = next();
  const argc = Number(next());
  if (!Number.isSafeInteger(argc) || argc < 0) throw new Error('bad argc');
  const argv = Array.from({ length: argc }, next);
  const envc = Number(next());
  if (!Number.isSafeInteger(envc) || envc < 0) throw new Error('bad envc');
  const env: Record<string, string> = {};
  for (let k = 0; k < envc; k++) {
    const kv = next();
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return { buildId, cwd, argv, env };
}

/** Bytes from the socket, cut into the request and then frames. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  takeRequest(): Buffer | undefined {
    if (this.buf.length < 4) return undefined;
    const len = this.buf.readUInt32LE(0);
    if (len > MAX_REQUEST) throw new Error('request too large');
    if (this.buf.length < 4 + len) return undefined;
    const body = this.buf.subarray(4, 4 + len);
    this.buf = this.buf.subarray(4 + len);
    return body;
  }

  takeFrame(): { type: string; body: Buffer } | undefined {
    if (this.buf.length < 5) return undefined;
    const len = this.buf.readUInt32LE(1);
    if (this.buf.length < 5 + len) return undefined;
    const type = this.buf.toString('latin1', 0, 1);
    const body = this.buf.subarray(5, 5 + len);
    this.buf = this.buf.subarray(5 + len);
    return { type, body };
  }
}
