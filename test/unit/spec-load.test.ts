import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';

import { loadConfig, MAX_CONFIG_BYTES, parseConfig, validateFeatures, validateProcess, validateResources, validateState } from '../../src/spec/load.ts';

const bundle = mkdtempSync(join(tmpdir(), 'hako-spec-load-'));
mkdirSync(join(bundle, 'rootfs'));
writeFileSync(join(bundle, 'afile'), '');
afterAll(() => rmSync(bundle, { recursive: true, force: true }));

function minimal(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ociVersion: '1.3.0', root: { path: 'rootfs' }, process: { cwd: '/', args: ['sh'], user: { uid: 0, gid: 0 } }, ...extra };
}

/** The problem lines of the ConfigError that `fn` throws (fails when it does not throw one). */
function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const parse = (obj: unknown) => parseConfig(JSON.stringify(obj, null, 2), bundle);

describe('parseConfig: JSON syntax', () => {
  it('names line and column of a stray token', () => {
    const text = '{\n  "ociVersion": "1.0.0",\n    }\n';
    expect(problems(() => parseConfig(text, bundle))).toEqual(["config.json: invalid JSON at line 3, column 5: trailing comma before '}'"]);
  });

  it('names an unexpected token', () => {
    const text = '{\n  "ociVersion": "1.0.0"\n  "root": {}\n}';
    expect(problems(() => parseConfig(text, bundle))).toEqual([
      "config.json: invalid JSON at line 3, column 3: unexpected token '\"': expected ',' or '}'",
    ]);
  });

  it('reports the end of input, unterminated strings and text after the value', () => {
    expect(problems(() => parseConfig('{"a": [1, 2', bundle))).toEqual(['config.json: invalid JSON at line 1, column 12: unexpected end of input']);
    expect(problems(() => parseConfig('{"a": "b', bundle))).toEqual(['config.json: invalid JSON at line 1, column 7: unterminated string']);
    expect(problems(() => parseConfig('{}\n{}', bundle))).toEqual([
      "config.json: invalid JSON at line 2, column 1: unexpected token '{' after the end of the JSON value",
    ]);
    expect(problems(() => parseConfig('', bundle))).toEqual(['config.json: invalid JSON at line 1, column 1: unexpected end of input']);
  });

  it('counts columns in characters, not bytes', () => {
    expect(problems(() => parseConfig('{"hé": x}', bundle))).toEqual(["config.json: invalid JSON at line 1, column 8: unexpected token 'x'"]);
  });
});

describe('parseConfig: schema errors', () => {
  it('accepts a minimal config and returns it', () => {
    expect(parse(minimal())).toEqual(minimal());
  });

  it('words a single type error with the field path', () => {
    const cfg = minimal({ linux: { resources: { memory: { limit: 1.5 } } } });
    expect(problems(() => parse(cfg))).toEqual(['config.json: linux.resources.memory.limit: must be an integer']);
  });

  it('lists every error, with array indexes and quoted keys', () => {
    const cfg = {
      ociVersion: 'one',
      process: { cwd: 3, rlimits: [{ type: 'nofile', soft: 1 }] },
      mounts: [{ destination: '/a' }, { source: 'x' }, { destination: '/c', options: 'ro' }],
      linux: {
        namespaces: [{ type: 'pid' }, { type: 'net' }],
        sysctl: { 'net.ipv4.ip_forward': 1 },
        resources: { pids: { limit: 2 ** 64 }, blockIO: { weightDevice: [{ major: 8, minor: 0 }] } },
        devices: [{ type: 'c', path: '/dev/fuse' }],
      },
    };
    expect(problems(() => parse(cfg))).toEqual([
      'config.json: ociVersion: must be a SemVer 2.0.0 version such as 1.2.0',
      'config.json: mounts[1].destination: is required',
      'config.json: mounts[2].options: must be an array',
      'config.json: process.cwd: must be a string',
      'config.json: process.rlimits[0].hard: is required',
      'config.json: process.rlimits[0].type: must be an RLIMIT_* name such as RLIMIT_NOFILE',
      'config.json: linux.namespaces[1].type: must be one of "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"',
      'config.json: linux.devices[0].major: is required',
      'config.json: linux.devices[0].minor: is required',
      'config.json: linux.resources.pids.limit: must be at most 9223372036854775807 (int64)',
      'config.json: linux.resources.blockIO.weightDevice[0]: must set at least one of weight, leafWeight',
      'config.json: linux.sysctl["net.ipv4.ip_forward"]: must be a string',
    ]);
  });

  it('words ranges of the spec integer types', () => {
    expect(problems(() => parse(minimal({ process: { cwd: '/', args: ['a'], user: { uid: -1, gid: 2 ** 32 } } })))).toEqual([
      'config.json: process.user.uid: must not be negative',
      'config.json: process.user.gid: must be at most 4294967295 (uint32)',
    ]);
    expect(problems(() => parse(minimal({ hooks: { poststop: [{ path: '/x', timeout: 0 }] } })))).toEqual([
      'config.json: hooks.poststop[0].timeout: must be at least 1',
    ]);
  });

  it('rejects a document that is not an object', () => {
    expect(problems(() => parseConfig('[]', bundle))).toEqual(['config.json: must be an object']);
    expect(problems(() => parseConfig('{}', bundle))).toEqual(['config.json: ociVersion: is required']);
  });

  it('allows unknown properties and other platforms sections, as the spec requires', () => {
    const cfg = minimal({ vendorThing: { a: 1 }, windows: { whatever: true } });
    expect(parse(cfg)).toEqual(cfg);
  });

  it('accepts the recursive rootfsPropagation values that containerd sends', () => {
    expect(parse(minimal({ linux: { rootfsPropagation: 'rslave' } })).linux?.rootfsPropagation).toBe('rslave');
  });

  it('does not run the semantic checks on a document that fails the schema', () => {
    const cfg = minimal({ root: { path: 'missing' }, process: { cwd: 'relative', args: [], user: { uid: 'x' } } });
    expect(problems(() => parse(cfg))).toEqual(['config.json: process.user.uid: must be an integer']);
  });
});

describe('parseConfig: semantic checks', () => {
  it('needs root and process, and checks root.path', () => {
    expect(problems(() => parse({ ociVersion: '1.0.0' }))).toEqual([
      'config.json: root: is required',
      'config.json: process: is required to create a container',
    ]);
    expect(parseConfig(JSON.stringify({ ociVersion: '1.0.0', root: { path: 'rootfs' } }), bundle, { requireProcess: false })).toBeTruthy();
    expect(problems(() => parse(minimal({ root: { path: 'nope' } })))).toEqual([
      `config.json: root.path: ${join(bundle, 'nope')}: no such file or directory`,
    ]);
    expect(problems(() => parse(minimal({ root: { path: join(bundle, 'afile') } })))).toEqual([
      `config.json: root.path: ${join(bundle, 'afile')}: not a directory`,
    ]);
    expect(parse(minimal({ root: { path: join(bundle, 'rootfs') } })).root?.path).toBe(join(bundle, 'rootfs'));
  });

  it('checks process: args, cwd, capabilities, rlimits', () => {
    const cfg = minimal({
      process: {
        cwd: 'home',
        args: [],
        user: { uid: 0, gid: 0 },
        capabilities: { bounding: ['CAP_CHOWN', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE'], ambient: ['CAP_NOPE'] },
        rlimits: [
          { type: 'RLIMIT_NOFILE', soft: 10, hard: 5 },
          { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
          { type: 'RLIMIT_NOFILE', soft: 1, hard: 1 },
          { type: 'RLIMIT_BOGUS', soft: 1, hard: 1 },
        ],
      },
    });
    expect(problems(() => parse(cfg))).toEqual([
      'config.json: process.args: must be a non-empty array',
      'config.json: process.cwd: must be an absolute path',
      'config.json: process.capabilities.ambient[0]: unknown capability "CAP_NOPE"',
      'config.json: process.rlimits[0].soft: must not be greater than hard (5)',
      'config.json: process.rlimits[2].type: RLIMIT_NOFILE is already set by process.rlimits[0]',
      'config.json: process.rlimits[3].type: unknown resource limit "RLIMIT_BOGUS"',
    ]);
  });

  it('checks namespaces: duplicates, paths, user mappings, time offsets, hostname', () => {
    const cfg = minimal({
      hostname: 'box',
      linux: {
        namespaces: [{ type: 'pid' }, { type: 'user' }, { type: 'pid', path: 'proc/1/ns/pid' }],
        gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
        timeOffsets: { monotonic: { secs: 10 } },
      },
    });
    expect(problems(() => parse(cfg))).toEqual([
      'config.json: linux.namespaces[2].type: "pid" is already listed at linux.namespaces[0]',
      'config.json: linux.namespaces[2].path: must be an absolute path',
      'config.json: linux.uidMappings: is required when a new user namespace is created',
      'config.json: linux.timeOffsets: needs a time namespace: add {"type": "time"} to linux.namespaces',
      'config.json: hostname: needs a UTS namespace: add {"type": "uts"} to linux.namespaces',
    ]);
  });

  it('rejects mappings without a user namespace and offsets for a joined time namespace', () => {
    const cfg = minimal({
      linux: {
        namespaces: [{ type: 'time', path: '/proc/1/ns/time' }],
        uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
        timeOffsets: { boottime: { secs: 1 } },
      },
    });
    expect(problems(() => parse(cfg))).toEqual([
      'config.json: linux.uidMappings: needs a user namespace: add {"type": "user"} to linux.namespaces',
      'config.json: linux.timeOffsets: cannot be set when joining an existing time namespace',
    ]);
  });

  it('accepts a joined user namespace without mappings, and relative mount destinations', () => {
    const cfg = minimal({
      mounts: [{ destination: 'data', type: 'tmpfs', source: 'tmpfs' }],
      linux: { namespaces: [{ type: 'user', path: '/proc/1/ns/user' }] },
    });
    expect(parse(cfg)).toEqual(cfg);
  });

  it('checks mounts, hooks, masked paths and seccomp errno rules', () => {
    const cfg = minimal({
      mounts: [{ destination: '' }, { destination: '/m', uidMappings: [{ containerID: 0, hostID: 1, size: 1 }] }],
      hooks: { createRuntime: [{ path: 'hook.sh' }] },
      linux: {
        maskedPaths: ['proc/kcore'],
        seccomp: {
          defaultAction: 'SCMP_ACT_ALLOW',
          defaultErrnoRet: 1,
          listenerMetadata: 'x',
          syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }, { names: ['rmdir'], action: 'SCMP_ACT_KILL', errnoRet: 1 }],
        },
      },
    });
    expect(problems(() => parse(cfg))).toEqual([
      'config.json: hooks.createRuntime[0].path: must be an absolute path',
      'config.json: mounts[0].destination: must not be empty',
      'config.json: mounts[1].gidMappings: is required with an idmapped mount (uidMappings and gidMappings go together)',
      'config.json: linux.maskedPaths[0]: must be an absolute path',
      'config.json: linux.seccomp.listenerMetadata: must not be set without listenerPath',
      'config.json: linux.seccomp.defaultErrnoRet: cannot be used with defaultAction SCMP_ACT_ALLOW (only SCMP_ACT_ERRNO, SCMP_ACT_TRACE)',
      'config.json: linux.seccomp.syscalls[1].errnoRet: cannot be used with action SCMP_ACT_KILL (only SCMP_ACT_ERRNO, SCMP_ACT_TRACE)',
    ]);
  });
});

describe('large invalid configs (issue 8: 32,000 bad entries took 16 s and printed 1.8 MB)', () => {
  it('reports the first 50 problems and counts the rest', () => {
    const n = 32_000;
    let err: unknown;
    try {
      parse(minimal({ linux: { namespaces: Array.from({ length: n }, () => ({ type: 'bogus' })) } }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const { problems: all, message } = err as ConfigError;
    expect(all).toHaveLength(51);
    expect(message).toBe(all.join('\n'));
    expect(all[0]).toMatch(/^config\.json: linux\.namespaces\[0\]\.type: must be one of "pid", /);
    expect(all[49]).toMatch(/^config\.json: linux\.namespaces\[49\]\.type: /);
    // the validator stops looking at one array after 1,000 errors: the count is a lower bound
    expect(all[50]).toBe('… and at least 950 more problems');
  });

  it('caps the semantic problems too: 32,000 duplicate namespaces', () => {
    let message = '';
    try {
      parse(minimal({ linux: { namespaces: Array.from({ length: 32_000 }, () => ({ type: 'pid' })) } }));
    } catch (e) {
      message = (e as Error).message;
    }
    const lines = message.split('\n');
    expect(lines).toHaveLength(51);
    expect(lines[0]).toBe('config.json: linux.namespaces[1].type: "pid" is already listed at linux.namespaces[0]');
    expect(lines[50]).toBe('… and 31949 more problems');
  });

  it('counts exactly when the validator looked at everything', () => {
    const env = Array.from({ length: 120 }, () => 5);
    const all = problems(() => parse(minimal({ process: { cwd: '/', args: ['sh'], env, user: { uid: 0, gid: 0 } } })));
    expect(all).toHaveLength(51);
    expect(all[50]).toBe('… and 70 more problems');
  });

  it('stops at 1,000 errors per array: 3 million bad env entries (a 6 MB file: 59 s and 2.3 GB before)', () => {
    const env = new Array(3_000_000).fill(5);
    const all = problems(() => parse(minimal({ process: { cwd: '/', args: ['sh'], env, user: { uid: 0, gid: 0 } } })));
    expect(all[50]).toBe('… and at least 950 more problems');
  });

  it('still finds an error after a huge valid array', () => {
    const env = new Array(200_000).fill('A=B');
    expect(problems(() => parse(minimal({ process: { cwd: '/', args: ['sh'], env: [...env, 5], user: { uid: 0, gid: 0 } } })))).toEqual([
      'config.json: process.env[200000]: must be a string',
    ]);
  });

  it('cuts a problem line that quotes a huge value', () => {
    const name = 'CAP_' + 'X'.repeat(100_000);
    const message = (() => {
      try {
        parse(minimal({ process: { cwd: '/', args: ['sh'], user: { uid: 0, gid: 0 }, capabilities: { bounding: [name] } } }));
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(message).toMatch(/^config\.json: process\.capabilities\.bounding\[0\]: unknown capability "CAP_X+…$/);
    expect(message.length).toBeLessThan(1100);
  });

  it('collects errors of referenced schemas in place (ajv concat made each error O(n): quadratic)', () => {
    const code = readFileSync(join(import.meta.dirname, '../../src/spec/generated/validators.js'), 'utf8');
    expect(code).not.toContain('vErrors.concat(');
  });
});

describe('loadConfig', () => {
  it('reads <bundle>/config.json', async () => {
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(minimal()));
    await expect(loadConfig(bundle)).resolves.toEqual(minimal());
  });

  it('says when config.json is missing', async () => {
    const empty = join(bundle, 'rootfs');
    await expect(loadConfig(empty)).rejects.toThrow(`config.json: cannot read ${join(empty, 'config.json')}: no such file or directory`);
  });

  // Each of these once hung or ate hundreds of MB (issue 8): refused before reading a byte.
  it('refuses a config.json that is not a regular file, naming config.json', async () => {
    const cases: [string, (p: string) => void, string][] = [
      ['a symlink to /dev/zero', (p) => symlinkSync('/dev/zero', p), 'a character device'],
      ['a symlink to /dev/urandom', (p) => symlinkSync('/dev/urandom', p), 'a character device'],
      ['a FIFO with no writer', (p) => execFileSync('mkfifo', [p]), 'a FIFO'],
      ['a directory', (p) => mkdirSync(p), 'a directory'],
    ];
    for (const [name, make, kind] of cases) {
      const dir = mkdtempSync(join(bundle, 'special-'));
      const path = join(dir, 'config.json');
      make(path);
      await expect(loadConfig(dir), name).rejects.toThrow(`config.json: ${path} is ${kind}, not a regular file`);
    }
  });

  it('refuses a config.json over 16 MiB, and reads one of exactly 16 MiB', async () => {
    const dir = mkdtempSync(join(bundle, 'big-'));
    const path = join(dir, 'config.json');
    writeFileSync(path, '');
    truncateSync(path, MAX_CONFIG_BYTES + 1); // sparse: nothing is written
    await expect(loadConfig(dir)).rejects.toThrow(`config.json: ${path} is larger than 16 MiB`);
    // at the limit it is read and parsed (here: NUL bytes, not JSON)
    truncateSync(path, MAX_CONFIG_BYTES);
    await expect(loadConfig(dir)).rejects.toThrow(/config\.json: invalid JSON at line 1, column 1/);
  });
});

describe('other documents', () => {
  it('validateResources names its source', () => {
    expect(validateResources({ memory: { limit: 1024 }, pids: { limit: 10 } }, 'resources.json')).toEqual({
      memory: { limit: 1024 },
      pids: { limit: 10 },
    });
    expect(problems(() => validateResources({ memory: { limit: '1g' }, pids: {} }, '-'))).toEqual([
      '-: memory.limit: must be an integer',
      '-: pids.limit: is required',
    ]);
  });

  it('validateProcess checks the schema and args/cwd/user', () => {
    const user = { uid: 0, gid: 0 };
    expect(validateProcess({ cwd: '/', args: ['ls'], user }, 'process.json')).toEqual({ cwd: '/', args: ['ls'], user });
    expect(problems(() => validateProcess({ args: ['ls'], user }, 'process.json'))).toEqual(['process.json: cwd: is required']);
    expect(problems(() => validateProcess({ cwd: 'x', args: [], user }, 'process.json'))).toEqual([
      'process.json: args: must be a non-empty array',
      'process.json: cwd: must be an absolute path',
    ]);
  });

  it('needs uid and gid in process.user (REQUIRED on POSIX platforms) and non-empty annotation keys', () => {
    expect(parse(minimal({ process: { cwd: '/', args: ['sh'] } })).process?.user).toBeUndefined();
    expect(problems(() => parse(minimal({ process: { cwd: '/', args: ['sh'], user: { gid: 0 } } })))).toEqual([
      'config.json: process.user.uid: is required',
    ]);
    expect(problems(() => parse(minimal({ annotations: { '': 'x' } })))).toEqual(['config.json: annotations: keys must not be empty']);
  });

  it('checks the freebsd section it otherwise ignores', () => {
    expect(problems(() => parse(minimal({ freebsd: { jail: { vnet: 'disable' } } })))).toEqual([
      'config.json: freebsd.jail.vnet: must be one of "new", "inherit"',
    ]);
    expect(parse(minimal({ freebsd: { jail: { vnet: 'new', ip4: 'disable', enforceStatfs: 1 } } })).freebsd).toBeTruthy();
  });

  it('validateState and validateFeatures', () => {
    const state = { ociVersion: '1.3.0', id: 'c1', status: 'running', pid: 42, bundle: '/b' };
    expect(validateState(state)).toEqual(state);
    expect(problems(() => validateState({ ...state, status: 'paused', pid: -1 }))).toEqual([
      'state: status: must be one of "creating", "created", "running", "stopped"',
      'state: pid: must not be negative',
    ]);
    expect(problems(() => validateFeatures({ ociVersionMin: '1.0.0' }))).toEqual(['features: ociVersionMax: is required']);
  });
});
