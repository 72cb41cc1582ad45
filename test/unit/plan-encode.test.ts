// The wire format, decoded back by a reader written from the format's description (not from the encoder).
import { describe, expect, it } from 'vitest';
import { compilePlan, describePlan, encodePlan, encodeStep, MSG, OPS, type Step } from '../../src/plan/index.ts';
import { defaultSpec } from '../../src/spec/default-spec.ts';

interface Decoded {
  type: number;
  opcode: number;
  step: number;
  fields: Buffer[];
}

function decode(pkt: Buffer): Decoded {
  const type = pkt.readUInt32LE(0);
  const len = pkt.readUInt32LE(4);
  expect(pkt.length).toBe(8 + len);
  if (type === MSG.END) return { type, opcode: 0, step: 0, fields: [] };
  const opcode = pkt.readUInt32LE(8);
  const step = pkt.readUInt32LE(12);
  const n = pkt.readUInt32LE(16);
  const fields: Buffer[] = [];
  let off = 20;
  for (let i = 0; i < n; i++) {
    const fl = pkt.readUInt32LE(off);
    fields.push(pkt.subarray(off + 4, off + 4 + fl));
    off += 4 + fl;
  }
  expect(off).toBe(pkt.length);
  return { type, opcode, step, fields };
}

const ctx = { bundle: '/b', rootfs: '/b/rootfs', execFifo: '/f', noPivot: false, noNewKeyring: false, preserveFds: 0, foreground: true };

describe('encodePlan', () => {
  it('one packet per step with its stage type, opcode and index, then END', () => {
    const spec = defaultSpec();
    spec.process!.terminal = false;
    const plan = compilePlan(spec, ctx);
    const pkts = encodePlan(plan).map(decode);
    expect(pkts).toHaveLength(plan.steps.length + 1);
    expect(pkts.at(-1)!.type).toBe(MSG.END);
    plan.steps.forEach((s, i) => {
      expect(pkts[i]!.type).toBe({ executor: MSG.OP_EXECUTOR, parent: MSG.OP_PARENT, init: MSG.OP_INIT }[s.stage]);
      expect(pkts[i]!.opcode).toBe(OPS[s.op].code);
      expect(pkts[i]!.step).toBe(i);
    });
  });

  it('ints are 8 bytes little-endian (negatives two’s complement), strings raw, lists a count then elements', () => {
    const step: Step = { op: 'bind', stage: 'init', label: 'x', args: { root: -1, target: '/t', create: 3, sourceRoot: 0, source: 'é', recursive: 1, attrSet: 2 ** 40, attrClr: 0xffffffffffffffffn, missingOk: 0 } };
    const d = decode(encodeStep(step, 7));
    expect(d.step).toBe(7);
    expect(d.fields).toHaveLength(9);
    expect(d.fields[0]!.readBigInt64LE()).toBe(-1n);
    expect(d.fields[1]!.toString()).toBe('/t');
    expect(d.fields[4]).toEqual(Buffer.from('é', 'utf8'));
    expect(d.fields[6]!.readBigUInt64LE()).toBe(2n ** 40n);
    expect(d.fields[7]!.readBigUInt64LE()).toBe(0xffffffffffffffffn);

    const exec: Step = { op: 'exec', stage: 'init', label: 'process.args', args: { args: ['sh', '-c', ''], env: ['A=1'] } };
    const e = decode(encodeStep(exec, 0));
    expect(e.fields.map((f) => (f.length === 8 && f.readBigUInt64LE() < 100n ? Number(f.readBigUInt64LE()) : f.toString()))).toEqual([3, 'sh', '-c', '', 1, 'A=1']);
    const groups: Step = { op: 'setgroups', stage: 'init', label: 'g', args: { gids: [] } };
    expect(decode(encodeStep(groups, 0)).fields).toEqual([Buffer.alloc(8)]);
  });

  it('refuses what the C side could not read', () => {
    const nul: Step = { op: 'sethostname', stage: 'init', label: 'hostname', args: { name: 'a\0b' } };
    expect(() => encodeStep(nul, 0)).toThrow('hostname: name contains a NUL byte');
    const frac: Step = { op: 'umask', stage: 'init', label: 'u', args: { mask: 1.5 } };
    expect(() => encodeStep(frac, 0)).toThrow('not a 64-bit integer');
    const big: Step = { op: 'exec', stage: 'init', label: 'process.args', args: { args: ['x'.repeat(300_000)], env: [] } };
    expect(() => encodeStep(big, 0)).toThrow('process.args: too large for the executor');
  });
});

describe('describePlan', () => {
  it('prints one line per step: index, stage, label, op, arguments with flags by name', () => {
    const spec = defaultSpec();
    spec.process!.terminal = false;
    spec.mounts!.push({ destination: '/data', source: '/srv/data', options: ['rbind', 'ro', 'rslave'] });
    spec.linux!.namespaces!.push({ type: 'user' });
    spec.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 10 }];
    spec.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 10 }];
    const plan = compilePlan(spec, ctx);
    const text = describePlan(plan);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^plan: \d+ steps \(executor \d+, parent 2, init \d+\); foreground; preserved fds: 0$/);
    expect(lines).toHaveLength(plan.steps.length + 1);
    expect(lines).toContain(' 3 executor linux.namespaces: clone flags=CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET foreground=yes');
    expect(lines).toContain(' 4 parent   linux.uidMappings: write_child name=uid_map content="0 1000 10\\n"');
    const data = lines.filter((l) => l.includes('mounts[7] /data'));
    // a new user namespace: the source is opened on the host by the executor, attached by the init
    expect(data[0]).toMatch(/ 2 executor mounts\[7\] \/data: open_tree path=\/srv\/data recursive=yes attrSet=MOUNT_ATTR_RDONLY slot=tree0$/);
    expect(data[1]).toMatch(/init {5}mounts\[7\] \/data: bind root=rootfs target=\/data create=like-source sourceRoot=tree0 recursive=detached-tree$/);
    expect(data[2]).toMatch(/mounts\[7\] \/data: setattr root=rootfs target=\/data propagation=MS_SLAVE recursive=yes$/);
    expect(lines.find((l) => l.includes('setrlimit'))).toMatch(/process\.rlimits\[0\] RLIMIT_NOFILE: setrlimit resource=RLIMIT_NOFILE soft=1024 hard=1024$/);
    expect(lines.find((l) => l.includes('capset'))).toMatch(/capset effective=CAP_KILL,CAP_NET_BIND_SERVICE,CAP_AUDIT_WRITE permitted=CAP_KILL,CAP_NET_BIND_SERVICE,CAP_AUDIT_WRITE inheritable=none$/);
    expect(lines.find((l) => l.includes('default device /dev/null'))).toMatch(/bind root=rootfs target=\/dev\/null create=file sourceRoot=host source=\/dev\/null$/);
    expect(lines.find((l) => l.includes(': exec '))).toMatch(/exec args=\[sh\] env=\[PATH=\S+ TERM=xterm\]$/);
  });
});
