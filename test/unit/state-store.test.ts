import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateId } from '../../src/state/ids.ts';
import type { ContainerRecord } from '../../src/state/record.ts';
import { StateStore } from '../../src/state/store.ts';

let root: string;
let store: StateStore;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'hako-unit-store-'));
  store = new StateStore(join(root, 'state'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const record = (id: string): ContainerRecord => ({
  id,
  ociVersion: '1.3.0',
  bundle: '/b',
  rootfs: '/b/rootfs',
  created: new Date(0).toISOString(),
  owner: 'root',
  config: { ociVersion: '1.3.0' } as ContainerRecord['config'],
});

describe('ids', () => {
  it('accepts runc ids and rejects anything that could leave the root', () => {
    for (const ok of ['a', 'abc-DEF_1.2+3', 'f'.repeat(64)]) expect(validateId(ok)).toBe(ok);
    for (const bad of ['', '.', '..', 'a/b', '../x', 'a b', 'a\nb', 'é']) expect(() => validateId(bad)).toThrow(/id/);
    expect(() => store.dir('../etc')).toThrow('invalid id format: ../etc');
  });

  it('refuses an id longer than NAME_MAX by rule, before any mkdir', () => {
    expect(validateId('a'.repeat(255))).toBe('a'.repeat(255));
    expect(() => validateId('a'.repeat(256))).toThrow('invalid id format: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa… is 256 characters long, at most 255 are allowed');
    expect(() => store.reserve('a'.repeat(1024))).toThrow(/invalid id format: a+… is 1024 characters long/);
  });
});

describe('StateStore', () => {
  it('reserves an id once', () => {
    store.reserve('c1');
    expect(() => store.reserve('c1')).toThrow('container with id exists: c1');
  });

  it('writes records atomically and reads them back', () => {
    store.reserve('c1');
    store.write(record('c1'));
    expect(store.read('c1')).toEqual(record('c1'));
    expect(readdirSync(store.dir('c1')).sort()).toEqual(['lock', 'state.json']); // no temp file left; the lock is reserve's
    expect(() => store.read('nope')).toThrow('container "nope" does not exist');
  });

  it('lists ids and removes a container', () => {
    for (const id of ['b', 'a']) store.reserve(id);
    expect(store.ids()).toEqual(['a', 'b']);
    store.remove('a');
    expect(store.ids()).toEqual(['b']);
    expect(new StateStore(join(root, 'missing')).ids()).toEqual([]);
  });

  it('reserves with the lock held, until the reserver releases it', async () => {
    store.reserve('c1');
    expect(readFileSync(join(store.dir('c1'), 'lock'), 'utf8')).toBe(String(process.pid));
    expect(await store.withLock('c1', () => 'released', { held: true })).toBe('released');
    expect(readdirSync(store.dir('c1'))).toEqual([]);
    // a reserver that died before writing the record: its lock is taken over, the folder has no record
    writeFileSync(join(store.dir('c1'), 'lock'), '999999999');
    writeFileSync(join(store.dir('c1'), '.state.json.999999999'), '{"id":');
    expect(store.hasFolder('c1')).toBe(true);
    expect(store.exists('c1')).toBe(false);
    expect(await store.withLock('c1', () => store.readIfValid('c1'))).toBeUndefined();
  });

  it('serialises two holders of one lock', async () => {
    store.reserve('c1');
    await store.withLock('c1', () => {}, { held: true });
    const order: string[] = [];
    const slow = store.withLock('c1', async () => {
      order.push('a-in');
      await new Promise((r) => setTimeout(r, 50));
      order.push('a-out');
    });
    await new Promise((r) => setTimeout(r, 5));
    const fast = store.withLock('c1', () => {
      order.push('b');
    });
    await Promise.all([slow, fast]);
    expect(order).toEqual(['a-in', 'a-out', 'b']);
  });

  it('takes over a lock whose holder died', async () => {
    store.reserve('c1');
    await store.withLock('c1', () => {}, { held: true });
    writeFileSync(join(store.dir('c1'), 'lock'), '999999999'); // no such pid
    expect(await store.withLock('c1', () => 42)).toBe(42);
    expect(readdirSync(store.dir('c1'))).toEqual([]);
  });

  it('reports a missing container when locking it', async () => {
    await expect(store.withLock('ghost', () => 1)).rejects.toThrow('container "ghost" does not exist');
  });
});
