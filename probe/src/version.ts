import probePackage from '../package.json' with { type: 'json' };

/** The probe's version, from its package.json (sent in records and heartbeats). */
export const PROBE_VERSION: string = probePackage.version;
