// Shared helpers for side-by-side benchmarks: interleaved runs, medians, ratios.
import { spawnSync } from 'node:child_process';

/** The environment a real host gives: NODE_EXTRA_CA_CERTS costs ~50 ms per node start and is unset. */
export function benchEnv() {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

export function timeOnce(argv, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { env: benchEnv(), stdio: 'ignore', ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  return { ms, status: r.status };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/**
 * Runs every case `runs` times, interleaved (a, b, c, a, b, c, …) after one warm-up each, so
 * drift in machine load hits all cases alike. Returns the samples per case name.
 */
export function interleave(cases, runs) {
  const samples = Object.fromEntries(cases.map((c) => [c.name, []]));
  for (const c of cases) c.run();
  for (let i = 0; i < runs; i++) for (const c of cases) samples[c.name].push(c.run());
  return samples;
}

export function table(samples, baseline) {
  const base = median(samples[baseline]);
  const rows = Object.entries(samples).map(([name, xs]) => {
    const m = median(xs);
    return `| ${name} | ${m.toFixed(1)} | ${percentile(xs, 90).toFixed(1)} | ${(m / base).toFixed(2)}x |`;
  });
  return [`| what | median ms | p90 ms | vs ${baseline} |`, '|---|---|---|---|', ...rows].join('\n');
}
