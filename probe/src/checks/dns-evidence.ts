// STUB — to be replaced by the HTTP helper. Signature is fixed.
import type { EvidenceSettings } from '../config/config.ts';
import type { EvidenceFetch } from '../contract/record.ts';
import type { CheckContext } from './check.ts';

export interface EvidenceRequest {
  /** The domain: sent as Host header and SNI. */
  host: string;
  /** Answer IPs from local resolvers that no reference gave. */
  unexpectedIps: string[];
  /** One IP from the reference answers to fetch at the same moment (null if none). */
  referenceIp: string | null;
  /** Path, ports and body cap (ports differ from 80/443 only in labs and odd deployments). */
  settings: EvidenceSettings;
  ctx: CheckContext;
}

export async function gatherEvidence(req: EvidenceRequest): Promise<EvidenceFetch[]> {
  void req;
  return [];
}
