/**
 * The optional IP → ASN table. A text file the operator provides, one prefix a line:
 *
 *     # CIDR          ASN      org name (optional, the rest of the line)
 *     203.0.113.0/24  64500    Example CDN
 *     2001:db8::/32   AS64501  Example ISP
 *
 * Blank lines and `#` comments are ignored; the longest prefix wins. An export of any BGP/IP-to-ASN
 * dataset (e.g. iptoasn.com's TSV reduced to "CIDR ASN name") fits.
 */
import { parseCidr, PrefixMap, type ParsedIp } from './ip.ts';

export interface AsnInfo {
  asn: number;
  org: string | null;
}

export class AsnTable {
  readonly #prefixes = new PrefixMap<AsnInfo>();

  get size(): number {
    return this.#prefixes.size;
  }

  add(cidr: string, info: AsnInfo): boolean {
    const parsed = parseCidr(cidr);
    if (!parsed) return false;
    this.#prefixes.set(parsed, info);
    return true;
  }

  lookup(ip: string | ParsedIp | null): AsnInfo | null {
    return this.#prefixes.get(ip) ?? null;
  }
}

/** Parses the table's text; every bad line is a problem "FILE:LINE: what is wrong". */
export function parseAsnTable(text: string, file: string): { table: AsnTable; problems: string[] } {
  const table = new AsnTable();
  const problems: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/#.*/, '').trim();
    if (line === '') continue;
    const [cidr, asnText, ...org] = line.split(/\s+/);
    const asnMatch = /^(?:AS)?(\d{1,10})$/i.exec(asnText ?? '');
    const asn = asnMatch ? Number(asnMatch[1]) : NaN;
    if (asnText === undefined) problems.push(`${file}:${i + 1}: expected "CIDR ASN [org name]", got ${JSON.stringify(line)}`);
    else if (!Number.isInteger(asn) || asn > 4294967295) problems.push(`${file}:${i + 1}: ${JSON.stringify(asnText)} is not an AS number`);
    else if (!table.add(cidr, { asn, org: org.length > 0 ? org.join(' ') : null })) {
      problems.push(`${file}:${i + 1}: ${JSON.stringify(cidr)} is not a CIDR`);
    }
    if (problems.length >= 20) {
      problems.push(`${file}: more problems not listed`);
      break;
    }
  }
  return { table, problems };
}
