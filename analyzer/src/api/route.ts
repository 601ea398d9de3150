/**
 * What a route is: method, path, the scope it needs, its parameters (validated and documented from
 * one declaration), what it returns, and a handler that only sees validated input and the caller.
 * server.ts wires these into fastify; openapi.ts documents them.
 */
import type { ClickHouse } from '@vantage/collector';
import type { Principal } from './auth.ts';
import { describeSeconds } from './buckets.ts';
import { badRequest } from './errors.ts';
import type { Scope } from './keys.ts';
import type { Params, ParamSpecs } from './params.ts';
import type { TaskStore } from './tasks.ts';

/** What handlers use: storage, the clock, settings. */
export interface ApiContext {
  ch: ClickHouse;
  tasks: TaskStore;
  now: () => number;
  /** A probe is offline once its last heartbeat is older than this. */
  offlineAfterS: number;
}

export interface HandlerInput<Q extends ParamSpecs, P extends ParamSpecs> {
  query: Params<Q>;
  params: Params<P>;
  /** The parsed JSON body (routes with `body` only). */
  body: unknown;
  who: Principal;
  api: ApiContext;
}

export interface HandlerResult {
  status?: number;
  body?: unknown;
}

export interface RouteSpec<Q extends ParamSpecs = ParamSpecs, P extends ParamSpecs = ParamSpecs> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** fastify syntax: /v1/tasks/:id */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  scope: Scope;
  query: Q;
  params: P;
  /** A JSON body: its description and schema (OpenAPI); validated by the handler. */
  body?: { description: string; schema: Record<string, unknown> };
  /** Successful answers, by status: a description and a schema (usually a $ref). */
  responses: Record<number, { description: string; schema?: Record<string, unknown> }>;
  handle(input: HandlerInput<Q, P>): Promise<HandlerResult>;
}

/** Declares a route with its parameter types inferred for the handler. */
export function route<Q extends ParamSpecs, P extends ParamSpecs>(spec: RouteSpec<Q, P>): RouteSpec {
  return spec as unknown as RouteSpec;
}

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** [from, to) in Unix seconds from optional parameters, defaulting to the last 24 hours; at most `maxSeconds`. */
export function timeRange(api: ApiContext, q: { from?: number; to?: number }, maxSeconds: number): { from: number; to: number } {
  const end = q.to ?? Math.ceil(api.now() / 1000);
  const start = q.from ?? end - 86_400;
  if (!(end > start)) throw badRequest(['to: must be after from']);
  if (end - start > maxSeconds) throw badRequest([`to: the range from..to is ${describeSeconds(end - start)}; it may be at most ${describeSeconds(maxSeconds)}`]);
  return { from: start, to: end };
}
