// config-linux.md#namespaces and #user-namespace-mappings.
import { readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, CaseContext } from '../lib/case.ts';
import { numbers, parseIdMap, parseStatus } from '../lib/probe.ts';
import type { Report } from '../lib/probe.ts';
import type { Spec } from '../lib/spec.ts';

/** Spec namespace type -> /proc/<pid>/ns entry name. */
const NS_FILE: Record<string, string> = { pid: 'pid', network: 'net', ipc: 'ipc', uts: 'uts', mount: 'mnt', cgroup: 'cgroup', user: 'user', time: 'time' };

function hostNs(name: string): string {
  return readlinkSync(`/proc/self/ns/${name}`);
}

function nsOf(r: Report, name: string): string | undefined {
  return (r.ns as Record<string, string> | undefined)?.[name];
}

function setNamespaces(s: Spec, types: string[]): void {
  s.linux!.namespaces = types.map((type) => ({ type }));
  if (!types.includes('uts')) delete s.hostname;
}

function userNs(s: Spec, base = 100000): void {
  s.linux!.namespaces!.push({ type: 'user' });
  s.linux!.uidMappings = [{ containerID: 0, hostID: base, size: 65536 }];
  s.linux!.gidMappings = [{ containerID: 0, hostID: base, size: 65536 }];
  // sysfs cannot be mounted from a user namespace without its own network namespace on some kernels;
  // it is not what these cases look at.
  s.mounts = s.mounts!.filter((m) => m.destination !== '/sys');
}

async function runningWith(t: CaseContext, edit: (s: Spec) => void): Promise<{ pid: number; r: Report; id: string }> {
  const c = await t.startContainer(t.bundle(['ns', 'print', 'sleep'], edit));
  const r = await c.report();
  return { pid: c.pid(), r, id: c.id };
}

function newNsCase(type: string, needs?: Case['needs']): Case {
  const file = NS_FILE[type] as string;
  return {
    name: `namespaces/new-${type}`,
    section: 'config-linux.md#namespaces',
    spec: `If path is not specified, the runtime MUST create a new container namespace of type ${type}`,
    needs,
    async run(t) {
      const r = await t.probe(['ns'], (s) => {
        if (!s.linux!.namespaces!.some((n) => n.type === type)) s.linux!.namespaces!.push({ type });
        if (type === 'user') {
          s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'user');
          userNs(s);
        }
      });
      const inside = nsOf(r, file);
      t.check(inside && inside !== hostNs(file), `the ${file} namespace must differ from the runtime's (${hostNs(file)}), got ${inside}`);
    },
  };
}

export const namespaceCases: Case[] = [
  ...['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'].map((n) => newNsCase(n)),
  newNsCase('user', ['userns']),
  {
    name: 'namespaces/inherit-when-absent',
    section: 'config-linux.md#namespaces',
    spec: 'If a namespace type is not specified in the namespaces array, the container MUST inherit the runtime namespace of that type',
    async run(t) {
      const r = await t.probe(['ns'], (s) => setNamespaces(s, ['mount']));
      for (const n of ['pid', 'net', 'ipc', 'uts', 'cgroup']) t.equal(nsOf(r, n), hostNs(n), `${n} namespace must be the runtime's`);
      t.check(nsOf(r, 'mnt') !== hostNs('mnt'), 'the mount namespace must be new');
    },
  },
  {
    name: 'namespaces/join-by-path',
    section: 'config-linux.md#namespaces',
    spec: 'The runtime MUST place the container process in the namespace associated with that path',
    async run(t) {
      const a = await runningWith(t, () => {});
      const r = await t.probe(['ns'], (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.map((n) =>
          ['network', 'ipc', 'uts', 'pid'].includes(n.type) ? { type: n.type, path: `/proc/${a.pid}/ns/${NS_FILE[n.type]}` } : n,
        );
        delete s.hostname;
      });
      for (const n of ['net', 'ipc', 'uts', 'pid']) t.equal(nsOf(r, n), nsOf(a.r, n), `${n} namespace joined by path`);
      t.check(nsOf(r, 'mnt') !== nsOf(a.r, 'mnt'), 'the mount namespace (not joined) is its own');
    },
  },
  {
    name: 'namespaces/path-wrong-type-errors',
    section: 'config-linux.md#namespaces',
    spec: 'The runtime MUST generate an error if path is not associated with a namespace of type type',
    async run(t) {
      const a = await runningWith(t, () => {});
      const c = await t.tryCreate(
        t.bundle(['sleep'], (s) => {
          s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: `/proc/${a.pid}/ns/ipc` } : n));
        }),
      );
      t.errors(c.createResult!, 'create joining an ipc namespace as network');
    },
  },
  {
    name: 'namespaces/path-not-a-namespace-errors',
    section: 'config-linux.md#namespaces',
    spec: 'The runtime MUST generate an error if path is not associated with a namespace of type type (a regular file)',
    async run(t) {
      await t.control();
      const file = join(t.dir, 'not-a-namespace');
      writeFileSync(file, 'x');
      const c = await t.tryCreate(
        t.bundle(['sleep'], (s) => {
          s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: file } : n));
        }),
      );
      t.errors(c.createResult!, 'create joining a regular file as a namespace');
    },
  },
  {
    name: 'namespaces/duplicate-type-errors',
    section: 'config-linux.md#namespaces',
    spec: 'If a namespaces field contains duplicated namespaces with same type, the runtime MUST generate an error',
    async run(t) {
      await t.control();
      const c = await t.tryCreate(
        t.bundle(['sleep'], (s) => {
          s.linux!.namespaces!.push({ type: 'network' });
        }),
      );
      t.errors(c.createResult!, 'create with two network namespaces');
    },
  },
  {
    name: 'namespaces/user-mappings',
    section: 'config-linux.md#user-namespace-mappings',
    spec: 'uidMappings/gidMappings describe the user namespace uid/gid mappings from the host to the container',
    needs: ['userns'],
    async run(t) {
      const b = t.bundle(['idmap', 'status', 'ids', 'print', 'sleep'], (s) => {
        userNs(s, 200000);
        s.process!.user = { uid: 1000, gid: 1000 };
      });
      const ownerBefore = statSync(join(b.rootfs, 'bin/probe')).uid;
      const c = await t.startContainer(b);
      const r = await c.report();
      const map = r.idmap as { uid_map: string; gid_map: string };
      t.equal(parseIdMap(map.uid_map), [[0, 200000, 65536]], 'uid_map');
      t.equal(parseIdMap(map.gid_map), [[0, 200000, 65536]], 'gid_map');
      t.equal(numbers(parseStatus(r.status).Uid)[0], 1000, 'uid inside the container');
      const host = parseStatus(readFileSync(`/proc/${c.pid()}/status`, 'utf8'));
      t.equal(numbers(host.Uid)[0], 201000, 'the same process seen from the host runs as the mapped uid');
      t.equal(statSync(join(b.rootfs, 'bin/probe')).uid, ownerBefore, 'the runtime SHOULD NOT modify the ownership of the rootfs');
    },
  },
  {
    name: 'namespaces/cgroup-namespace-root',
    section: 'config-linux.md#namespaces',
    spec: 'cgroup: the container will have an isolated view of the cgroup hierarchy',
    async run(t) {
      const r = await t.probe(['cgroup'], (s) => {
        s.linux!.namespaces!.push({ type: 'cgroup' });
      });
      const lines = String(r.cgroup).trim().split('\n');
      t.check(lines.length > 0 && lines.every((l) => l.endsWith(':/')), `every cgroup path must be / inside a new cgroup namespace: ${JSON.stringify(lines)}`);
    },
  },
  {
    name: 'namespaces/time-offsets',
    section: 'config-linux.md#offset-for-time-namespace',
    spec: 'timeOffsets sets the offset for the time namespace (a runtime that cannot apply it MUST generate an error)',
    async run(t) {
      await t.control();
      const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
      const days = 3650;
      const b = t.bundle(['ns', 'clock:monotonic', 'exit:0'], (s) => {
        s.linux!.namespaces!.push({ type: 'time' });
        s.linux!.timeOffsets = { monotonic: { secs: days * 86400, nanosecs: 0 } };
      });
      const c = await t.tryCreate(b);
      if (c.createResult?.code !== 0) {
        t.observe('time-namespace', 'refused');
        return;
      }
      t.observe('time-namespace', 'applied');
      t.ok(await c.start(), 'start');
      await c.waitStatus('stopped');
      const r = await c.report();
      const mono = Number(r['clock:monotonic']);
      t.check(mono >= hostUptime + days * 86400 - 5, `CLOCK_MONOTONIC must carry the offset: ${mono} vs host uptime ${hostUptime}`);
    },
  },
];
