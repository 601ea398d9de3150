/**
 * One HTTP POST to a channel with a time limit, reading at most the start of the answer. A failed
 * request (refused, reset, timed out) is an outcome with its reason, never an exception.
 */
import type { Answer, OutgoingRequest } from './channels/channel.ts';

export const ANSWER_MAX_BYTES = 4096;

export interface PostOutcome {
  answer: Answer | null;
  /** Why there is no answer (or the answer's body could not be read). */
  error: string | null;
  durationMs: number;
}

export async function post(request: OutgoingRequest, timeoutMs: number, userAgent: string): Promise<PostOutcome> {
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(request.url, {
      method: 'POST',
      headers: { 'user-agent': userAgent, ...request.headers },
      body: request.body,
      redirect: 'manual', // a webhook that redirects is misconfigured: report it, do not re-POST elsewhere
      signal,
    });
    const body = await readCapped(res, ANSWER_MAX_BYTES);
    const headers: Record<string, string> = {};
    res.headers.forEach((value, key) => (headers[key] = value));
    return { answer: { status: res.status, body, headers }, error: null, durationMs: performance.now() - started };
  } catch (err) {
    return { answer: null, error: describe(err, signal.aborted, timeoutMs), durationMs: performance.now() - started };
  }
}

async function readCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).subarray(0, max).toString('utf8');
  return text.replace(/\uFFFD$/, ''); // a character cut at the cap
}

function describe(err: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `timeout after ${timeoutMs} ms`;
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message}: ${cause}` : e.message;
}
