#!/usr/bin/env node
// The cold path of bin/hako (the C front, native/front/front.c, execs node on this file when no warm
// daemon serves the call). Loads dist/hako.cjs (the bundle built by `npm run build`) through V8's code
// cache, so the ~200 KB of JavaScript is not parsed and compiled again at every call. hako starts
// once per container operation, and node 20 has no compile cache of its own (22 does).
// The cache sits next to the bundle; V8 rejects it when the source or node changes, and it is
// then written anew. Without write access it simply runs uncached.
'use strict';
// First: catch the signals a caller may send while hako loads (src/runtime/early-signals.ts).
{
  const caught = [];
  const keep = (signal) => caught.push(signal);
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  for (const s of signals) process.on(s, keep);
  globalThis.hakoEarlySignals = {
    take() {
      for (const s of signals) process.off(s, keep);
      return caught.splice(0);
    },
  };
}
const fs = require('node:fs');
const { Script } = require('node:vm');
const { createRequire } = require('node:module');

const file = `${__dirname}/../dist/hako.cjs`;
// Two caches: one for the calls that make or run containers (create, run, start, delete, exec,
// kill: a cache holding the lifecycle's functions, ~430 KB), one for the rest (state, list…,
// ~190 KB: a smaller cache loads faster, ~5 ms on the project's VM). None for the daemon: it
// would write every function it ever ran into the cache at its exit.
const LIFECYCLE = new Set(['create', 'run', 'start', 'delete', 'exec', 'kill']);
const args = process.argv.slice(2);
const cacheFile = args.includes('daemon') ? undefined : `${file}.${args.some((a) => LIFECYCLE.has(a)) ? 'lifecycle.' : ''}v8cache`;
// V8 checks a cache against the source's length only: a rebuilt bundle of the same length would run
// with another build's code (seen as SyntaxErrors in lazily compiled functions). The cache starts
// with a stamp of the bundle it was made from (size and mtime), checked before and after the read.
const stampOf = () => {
  const st = fs.statSync(file);
  return `${st.size}:${st.mtimeMs}\n`;
};
const stamp = stampOf();
// The bundle is ASCII (esbuild escapes the rest): decoded as latin1 it is the same string, ~2 ms
// sooner than through UTF-8 validation; anything else is read as UTF-8.
const bytes = fs.readFileSync(file);
const source = bytes.toString(require('node:buffer').isAscii(bytes) ? 'latin1' : 'utf8');
let cachedData;
try {
  if (cacheFile === undefined) throw new Error('no cache');
  const buf = fs.readFileSync(cacheFile);
  const head = buf.indexOf(10) + 1;
  if (head > 0 && buf.toString('latin1', 0, head) === stamp && stampOf() === stamp) cachedData = buf.subarray(head);
} catch {
  // first run, or no cache: compile normally
}
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: file,
  cachedData,
});
if (cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected)) {
  // Written at exit, so the functions this run compiled are in it too.
  process.once('exit', () => {
    try {
      const tmp = `${cacheFile}.${process.pid}`;
      fs.writeFileSync(tmp, Buffer.concat([Buffer.from(stamp, 'latin1'), script.createCachedData()]));
      fs.renameSync(tmp, cacheFile);
    } catch {
      // read-only install: run uncached
    }
  });
}
const module_ = { exports: {} };
script.runInThisContext()(module_.exports, createRequire(file), module_, file, `${__dirname}/../dist`);
