// hako's schemas (schemas/, as precompiled into src/spec/generated/) against the official runtime-spec
// v1.3.0 JSON Schemas and test corpus, kept as reference data next to the repository in
// ../shared/oci-runtime-spec-v1.3.0. Nothing of it is copied into hako; when it is absent the suite is skipped.
//  1. the corpus: every good Linux document is accepted, every bad one rejected;
//  2. agreement: a deterministic set of mutations of the good configs gets the same verdict from both
//     schemas, except for the differences listed in `deliberate`, each with the spec sentence behind it.
import AjvDraft04 from 'ajv-draft-04';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultSpec } from '../../src/spec/default-spec.ts';
import { validateConfig, validateFeatures, validateState } from '../../src/spec/generated/validators.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
const official = join(repo, '../shared/oci-runtime-spec-v1.3.0/schema');
const present = existsSync(join(official, 'config-schema.json'));

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Check = (doc: unknown) => boolean;

/** The official schemas, compiled with a draft-04 ajv; `#definitions/…` refs get their missing `/`. */
function officialValidators(): { config: Check; state: Check; features: Check } {
  // a CommonJS module: its class is `default` of the default import under NodeNext
  type AjvLike = new (opts: object) => {
    addSchema(schema: object, key: string): unknown;
    getSchema(key: string): ((doc: unknown) => boolean | Promise<unknown>) | undefined;
  };
  const mod = AjvDraft04 as unknown as { default?: AjvLike };
  const Ajv = (mod.default ?? mod) as AjvLike;
  const ajv = new Ajv({ strict: false, allErrors: false, validateSchema: false });
  for (const f of readdirSync(official).filter((n) => n.endsWith('.json'))) {
    const text = readFileSync(join(official, f), 'utf8').replace(/"#definitions\//g, '"#/definitions/');
    ajv.addSchema({ ...JSON.parse(text), id: f }, f);
  }
  const get = (f: string): Check => {
    const v = ajv.getSchema(f)!;
    return (doc) => v(doc) as boolean;
  };
  return { config: get('config-schema.json'), state: get('state-schema.json'), features: get('features-schema.json') };
}

const NON_LINUX = /^(freebsd|zos|windows|solaris|vm)-/;

function corpus(kind: string, verdict: 'good' | 'bad'): { name: string; text: string }[] {
  const dir = join(official, 'test', kind, verdict);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
}

function parsed(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

interface Case {
  /** Where the mutation was made, `linux.resources.pids.limit` style with [i] indexes. */
  path: string;
  /** What was done: `type:number`, `remove`, `value:-1`… */
  what: string;
  doc: Json;
}

const clone = (v: Json): Json => JSON.parse(JSON.stringify(v)) as Json;

function setAt(doc: Json, keys: (string | number)[], fn: (parent: Json[] | { [k: string]: Json }, key: string | number) => void): Json {
  const copy = clone(doc);
  let node = copy as Json[] | { [k: string]: Json };
  for (const k of keys.slice(0, -1)) node = (node as Record<string | number, Json>)[k] as Json[] | { [k: string]: Json };
  fn(node, keys[keys.length - 1]!);
  return copy;
}

const showPath = (keys: (string | number)[]) =>
  keys.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');

/** Deterministic mutations: every node of `doc` gets wrong types and edge values; every property is removed once. */
function mutations(doc: Json): Case[] {
  const out: Case[] = [];
  const visit = (node: Json, keys: (string | number)[]) => {
    if (keys.length > 0) {
      const replace = (what: string, value: Json) =>
        out.push({ path: showPath(keys), what, doc: setAt(doc, keys, (p, k) => ((p as Record<string | number, Json>)[k] = value)) });
      if (typeof node !== 'string') replace('type:string', 'x');
      if (typeof node !== 'number') replace('type:number', 7);
      if (typeof node !== 'boolean') replace('type:boolean', true);
      if (node === null || typeof node !== 'object') {
        replace('type:object', {});
        replace('type:array', []);
      } else if (Array.isArray(node)) {
        replace('type:object', {});
        replace('empty-array', []);
      } else {
        replace('type:array', []);
        replace('empty-object', {});
      }
      replace('null', null);
      if (typeof node === 'number') {
        for (const v of [-1, 0, 1.5, 65536, 2 ** 31, 2 ** 32, 2 ** 63, 2 ** 64, 2 ** 65, -(2 ** 31) - 1, -(2 ** 64)]) replace(`value:${v}`, v);
      }
      if (typeof node === 'string') {
        for (const v of ['', 'BOGUS_value', '1.0', '64kB', 'MB:0=1\n']) replace(`value:${JSON.stringify(v)}`, v);
      }
      const last = keys[keys.length - 1];
      if (typeof last === 'string') {
        out.push({ path: showPath(keys), what: 'remove', doc: setAt(doc, keys, (p, k) => delete (p as Record<string, Json>)[k as string]) });
      }
    }
    if (Array.isArray(node)) node.forEach((v, i) => visit(v, [...keys, i]));
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) visit(v, [...keys, k]);
      out.push({
        path: showPath(keys) || '(root)',
        what: 'add-unknown',
        doc: setAt(doc, [...keys, 'xUnknownProperty'], (p, k) => ((p as Record<string, Json>)[k as string] = { any: 'thing' })),
      });
    }
  };
  visit(doc, []);
  return out;
}

/**
 * Where hako's schema deliberately differs from the official one. `hako` is hako's verdict (true: accepted);
 * the official schema says the opposite. Each rule quotes the spec text (or the client behaviour) behind it.
 */
const deliberate: { rule: string; why: string; hako: boolean; matches: (c: Case) => boolean }[] = [
  {
    rule: 'ociVersion must be SemVer',
    why: 'config.md, runtime.md, features.md: "ociVersion (string, REQUIRED) MUST be in SemVer v2.0.0 format"',
    hako: false,
    matches: (c) => /(^|\.)ociVersion(Min|Max)?$/.test(c.path) && c.what.startsWith('value:'),
  },
  {
    rule: 'a device entry needs major and minor unless its type is p',
    why: 'config-linux.md Devices: "major, minor (int64, REQUIRED unless type is p)"',
    hako: false,
    matches: (c) => /^linux\.devices\[\d+\]\.(major|minor)$/.test(c.path) && c.what === 'remove',
  },
  {
    rule: 'weightDevice entries set weight or leafWeight',
    why: 'config-linux.md Block IO: "You MUST specify at least one of weight or leafWeight in a given entry"',
    hako: false,
    matches: (c) => /^linux\.resources\.blockIO\.weightDevice\[\d+\]\.(weight|leafWeight)$/.test(c.path) && c.what === 'remove',
  },
  {
    rule: 'throttle entries need rate',
    why: 'config-linux.md Block IO: "rate (uint64, REQUIRED)"',
    hako: false,
    matches: (c) => /^linux\.resources\.blockIO\.throttle\w+\[\d+\]\.rate$/.test(c.path) && c.what === 'remove',
  },
  {
    rule: 'rdma entries set hcaHandles or hcaObjects',
    why: 'config-linux.md RDMA: "You MUST specify at least one of the hcaHandles or hcaObjects in a given entry"',
    hako: false,
    // removing a field of an entry, emptying it, or adding an entry without either (add-unknown on the map)
    matches: (c) => c.path.startsWith('linux.resources.rdma'),
  },
  {
    rule: 'personality needs domain',
    why: 'config-linux.md Personality: "domain (string, REQUIRED)"',
    hako: false,
    matches: (c) =>
      (c.path === 'linux.personality.domain' && c.what === 'remove') || (c.path === 'linux.personality' && c.what === 'value:{flags}'),
  },
  {
    rule: 'rootfsPropagation also takes the recursive names',
    why: 'runc maps rprivate/rshared/rslave/runbindable, and containerd CRI sets "rslave" or "rshared" with host-propagated mounts',
    hako: true,
    matches: (c) => c.path === 'linux.rootfsPropagation' && /^value:"r(private|shared|slave|unbindable)"$/.test(c.what),
  },
  {
    rule: 'device fileMode is a uint32',
    why: 'config-linux.md Devices: "fileMode (uint32, OPTIONAL)"; the official schema stops at 511, runc takes any os.FileMode',
    hako: true,
    matches: (c) => /^linux\.devices\[\d+\]\.fileMode$/.test(c.path) && /^value:\d+$/.test(c.what),
  },
];

/** Cases that the generator cannot reach but a rule above is about. */
function extraCases(base: Json): Case[] {
  const at = (keys: (string | number)[], value: Json, what: string): Case => ({
    path: showPath(keys),
    what,
    doc: setAt(base, keys, (p, k) => ((p as Record<string | number, Json>)[k] = value)),
  });
  return [
    ...['rprivate', 'rshared', 'rslave', 'runbindable', 'private', 'shared', 'slave', 'unbindable'].map((v) =>
      at(['linux', 'rootfsPropagation'], v, `value:${JSON.stringify(v)}`),
    ),
    at(['linux', 'devices', 0, 'fileMode'], 0o20666, `value:${0o20666}`),
    at(['linux', 'devices', 0, 'fileMode'], 0o777, `value:${0o777}`),
    at(['linux', 'personality'], { flags: [] }, 'value:{flags}'),
    at(['linux', 'personality'], { domain: 'LINUX32' }, 'value:{domain}'),
    at(['linux', 'devices', 1], { type: 'p', path: '/dev/fifo' }, 'value:fifo-device'),
  ];
}

const title = present
  ? 'schemas agree with the official runtime-spec v1.3.0 schemas'
  : `crosscheck SKIPPED: official schemas not found at ${official}`;

describe.skipIf(!present)(title, () => {
  const ref = present ? officialValidators() : undefined!;
  const skipped: string[] = [];

  for (const [kind, mine] of [
    ['config', validateConfig],
    ['state', validateState],
    ['features', validateFeatures],
  ] as const) {
    it(`accepts every good and rejects every bad Linux ${kind} document of the corpus`, () => {
      for (const verdict of ['good', 'bad'] as const) {
        for (const { name, text } of corpus(kind, verdict)) {
          if (NON_LINUX.test(name)) {
            skipped.push(`${kind}/${verdict}/${name}`);
            continue;
          }
          const doc = parsed(text);
          const accepted = doc.ok && mine(doc.value);
          expect({ file: `${kind}/${verdict}/${name}`, accepted }).toEqual({ file: `${kind}/${verdict}/${name}`, accepted: verdict === 'good' });
        }
      }
      // the non-Linux corpus is outside what hako reads; hako only requires those sections to be objects
      if (kind === 'config') {
        expect(skipped.length).toBeGreaterThan(0);
        console.info(`crosscheck: skipped non-Linux corpus files: ${skipped.join(', ')}`);
      }
    });
  }

  it('gives the same verdict as the official schema on mutations of the good configs, but for the listed differences', () => {
    const bases: Json[] = corpus('config', 'good')
      .filter((f) => !NON_LINUX.test(f.name))
      .map((f) => JSON.parse(f.text) as Json);
    bases.push(defaultSpec({}) as unknown as Json);
    const withDevices = bases.find((b) => (b as { linux?: { devices?: unknown } }).linux?.devices)!;
    const cases = [
      ...bases.flatMap((b) => mutations(b)),
      ...extraCases(withDevices),
      // documents that only differ from a good one by a rule above: the generator cannot build them
      ...[
        { path: 'linux.resources.rdma.mlx5_1', what: 'value:{}', doc: { ociVersion: '1.0.0', linux: { resources: { rdma: { mlx5_1: {} } } } } },
      ],
    ];
    const used = new Map<string, number>();
    const unexplained: string[] = [];
    let agreed = 0;
    for (const c of cases) {
      const theirs = ref.config(c.doc);
      const ours = validateConfig(c.doc);
      if (theirs === ours) {
        agreed++;
        continue;
      }
      const rule = deliberate.find((r) => r.hako === ours && r.matches(c));
      if (rule) used.set(rule.rule, (used.get(rule.rule) ?? 0) + 1);
      else unexplained.push(`${c.path} ${c.what}: official ${theirs ? 'accepts' : 'rejects'}, hako ${ours ? 'accepts' : 'rejects'}`);
    }
    console.info(
      `crosscheck: ${cases.length} cases, ${agreed} agree; deliberate differences: ${[...used].map(([r, n]) => `${r} (${n})`).join('; ')}`,
    );
    expect(cases.length).toBeGreaterThan(300);
    expect(unexplained).toEqual([]);
    // every listed difference is real: a rule that no case needs anymore must be removed
    expect(deliberate.map((r) => r.rule).filter((r) => !used.has(r))).toEqual([]);
  });

  it('agrees on mutations of the good state and features documents, but for SemVer', () => {
    for (const [kind, mine, theirs] of [
      ['state', validateState, ref.state],
      ['features', validateFeatures, ref.features],
    ] as const) {
      for (const { text } of corpus(kind, 'good')) {
        for (const c of mutations(JSON.parse(text) as Json)) {
          const ours = mine(c.doc);
          if (ours === theirs(c.doc)) continue;
          const rule = deliberate[0]!;
          expect({ kind, path: c.path, what: c.what, explained: rule.hako === ours && rule.matches(c) }).toEqual({
            kind,
            path: c.path,
            what: c.what,
            explained: true,
          });
        }
      }
    }
  });
});
