// linux.sysctl: accepted only when the container has its own namespace for the key (runc's rule),
// so no config can change a host value.
import { describe, expect, it } from 'vitest';
import { sysctlProblems } from '../../src/spec/semantic.ts';
import type { Spec } from '../../src/spec/types.ts';

const spec = (sysctl: Record<string, string>, namespaces: { type: string; path?: string }[]): Spec =>
  ({ ociVersion: '1.3.0', linux: { sysctl, namespaces } }) as unknown as Spec;
const keys = (p: [string, string][]) => p.map(([k]) => k);

describe('sysctlProblems', () => {
  it('refuses keys of no kernel namespace (core_pattern, vm.*, kernel.core_uses_pid), whatever the namespaces', () => {
    const all = [{ type: 'ipc' }, { type: 'network' }, { type: 'uts' }, { type: 'pid' }, { type: 'mount' }];
    const p = sysctlProblems(spec({ 'kernel.core_pattern': '|/x', 'kernel.core_uses_pid': '1', 'vm.swappiness': '1' }, all));
    expect(keys(p)).toEqual(['kernel.core_pattern', 'kernel.core_uses_pid', 'vm.swappiness']);
    expect(p[0]![1]).toMatch(/not in a separate kernel namespace/);
  });

  it('ipc keys and fs.mqueue.* need an ipc namespace; net.* a network one; hostname/domainname a uts one', () => {
    const s = { 'kernel.shmmax': '1', 'fs.mqueue.msg_max': '1', 'net.ipv4.tcp_mtu_probing': '1', 'kernel.domainname': 'x', 'kernel/msgmax': '1' };
    expect(keys(sysctlProblems(spec(s, [])))).toEqual(Object.keys(s));
    expect(sysctlProblems(spec(s, [{ type: 'ipc' }, { type: 'network' }, { type: 'uts' }]))).toEqual([]);
    expect(keys(sysctlProblems(spec(s, [{ type: 'ipc' }])))).toEqual(['net.ipv4.tcp_mtu_probing', 'kernel.domainname']);
  });

  it("a joined network namespace that is the host's is refused; another one is accepted", () => {
    const s = { 'net.ipv4.ip_forward': '1' };
    expect(sysctlProblems(spec(s, [{ type: 'network', path: '/proc/self/ns/net' }]))[0]![1]).toMatch(/host's network namespace/);
    // any other file stands in for another namespace
    expect(sysctlProblems(spec(s, [{ type: 'network', path: '/proc/self/ns/net' }]), '/proc/self/ns/ipc')).toEqual([]);
  });
});
