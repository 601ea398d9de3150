/**
 * tcp: connect to host:port (the host resolved through the probe's local resolvers), optionally
 * completing a TLS handshake whose certificate must verify for the server name.
 */
import { splitHostPort } from '../config/endpoints.ts';
import { classifyError, describeError } from '../net/classify-error.ts';
import { dial } from '../net/dial.ts';
import { resolveTarget } from '../net/resolve-target.ts';
import type { CheckFn } from './check.ts';

export const checkTcp: CheckFn<'tcp'> = async (task, ctx) => {
  const { host, port } = splitHostPort(task.target) as { host: string; port: number };
  const resolved = await resolveTarget(host, task.tcp.ipVersion, ctx);
  const keys = {
    host,
    port,
    resolver: resolved.resolver,
    resolved_ips: resolved.resolvedIps,
    dialed_ip: resolved.ip,
    tls: null as null | import('../contract/record.ts').TlsInfo,
  };
  const timings = resolved.resolveMs === null ? {} : { resolve: resolved.resolveMs };
  if (resolved.ip === null) {
    return { failure: resolved.failure, failureDetail: resolved.failureDetail, timings, keys };
  }

  const serverName = task.tcp.serverName ?? host;
  try {
    const dialed = await dial({
      ip: resolved.ip,
      port,
      tls: task.tcp.tls ? { serverName, extraCaPem: ctx.extraCaPem } : undefined,
      signal: ctx.signal,
      now: ctx.now,
    });
    dialed.socket.destroy();
    keys.tls = dialed.tls;
    const phaseTimings = { ...timings, connect: dialed.connectMs, ...(dialed.tlsMs === null ? {} : { tls: dialed.tlsMs }) };
    if (dialed.tls && !dialed.tls.verified) {
      return { failure: 'tls_cert_invalid', failureDetail: `${serverName}: ${dialed.tls.error}`, timings: phaseTimings, keys };
    }
    return { failure: null, failureDetail: null, timings: phaseTimings, keys };
  } catch (err) {
    return { failure: classifyError(err), failureDetail: describeError(err), timings, keys };
  }
};
