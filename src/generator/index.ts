export { generateTraffic } from './traffic.ts';
export type { AttackEpisode, GeneratedTraffic } from './traffic.ts';
export { CSV_HEADER, summarize, trafficToCsv, trafficToFlowTable, writeGeneratedCsv, writeTrafficCsv } from './csv.ts';
export type { WriteSummary } from './csv.ts';
export { DEFAULTS, MAX_ROWS, generatorOptionsSchema, resolveOptions } from './options.ts';
export type { GeneratorOptions } from './options.ts';
export { ATTACK_TYPES, PROTOCOLS } from './profiles.ts';
export type { GeneratedAttackType } from './profiles.ts';
export { Rng } from './prng.ts';
