// Every case of the suite, in run order.
import type { Case } from '../lib/case.ts';
import { clientCases } from './clients.ts';
import { deviceCases } from './devices.ts';
import { hookCases } from './hooks.ts';
import { lifecycleCases } from './lifecycle.ts';
import { linuxCases } from './linux.ts';
import { mountCases } from './mounts.ts';
import { namespaceCases } from './namespaces.ts';
import { processCases } from './process.ts';

export const allCases: Case[] = [...lifecycleCases, ...clientCases, ...processCases, ...hookCases, ...mountCases, ...namespaceCases, ...deviceCases, ...linuxCases];

const seen = new Set<string>();
for (const c of allCases) {
  if (seen.has(c.name)) throw new Error(`duplicate case name ${c.name}`);
  seen.add(c.name);
}
