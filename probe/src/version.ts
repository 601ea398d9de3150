import { readFileSync } from 'node:fs';

/** The probe's version, from its package.json (sent in records and heartbeats). */
export const PROBE_VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
