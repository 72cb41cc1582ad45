#!/usr/bin/env node
// `npm run build` (and `npm ci`, through `prepare`): everything hako needs at run time.
//   1. precompiled ajv validators and the TypeScript types, from schemas/
//   2. the C programs under native/ (and the conformance probe), with the system C compiler
//   3. one bundled entry file, dist/hako.cjs, with lazily loaded chunks
//   4. bin/hako, the C front (native/front/), with the build id of 1-3 (scripts/build-front.mjs)
//   5. the library's declarations, dist/types/ (package.json `exports`)
import { buildValidators } from './build-validators.mjs';
import { buildNative } from './build-native.mjs';
import { bundle } from './bundle.mjs';
import { buildFront } from './build-front.mjs';
import { buildTypes } from './build-types.mjs';

const steps = [
  ['validators', buildValidators],
  ['native', buildNative],
  ['bundle', bundle],
  ['front', buildFront],
  ['types', buildTypes],
];

for (const [name, step] of steps) {
  const t0 = performance.now();
  try {
    await step();
  } catch (err) {
    console.error(`build: ${name}: ${err.message}`);
    process.exit(1);
  }
  if (process.env.HAKO_BUILD_VERBOSE) console.error(`build: ${name} ${(performance.now() - t0).toFixed(0)} ms`);
}
