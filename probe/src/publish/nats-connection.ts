/**
 * The probe's NATS connection. It connects in the background and never gives up: a probe must
 * start, run its checks and spool their records while NATS is down, so nothing here blocks the
 * start. Once connected, the client reconnects by itself; if the client ever closes for good
 * (e.g. repeated auth errors while the server's accounts change), this starts over.
 */
import { readFileSync } from 'node:fs';
import {
  connect, credsAuthenticator, nkeyAuthenticator, tokenAuthenticator, usernamePasswordAuthenticator, type Authenticator, type NatsConnection, type NodeConnectionOptions,
} from '@nats-io/transport-node';
import type { ProbeConfig } from '../config/config.ts';
import { WakeablePause } from './wakeable-pause.ts';

export type LinkState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface LinkEvent {
  state: LinkState;
  /** The server of a (re)connect. */
  server?: string;
  /** Why the last attempt failed, for a log line. */
  error?: string;
}

export interface NatsLinkOptions {
  /** Client name shown in the server's connection list. */
  name?: string;
  /** Wait between connect attempts (first connect and client reconnects). Default 2000 ms. */
  retryDelayMs?: number;
  /** Time limit of one connect attempt. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** How often the client pings, to notice a dead peer behind a silent network. Default 20 s. */
  pingIntervalMs?: number;
}

/** Connection options from the probe config: URL and the configured way to authenticate. */
export function connectOptions(settings: ProbeConfig['nats'], opts: NatsLinkOptions = {}): NodeConnectionOptions {
  const authenticator: Authenticator[] = [];
  // Read the creds file at every (re)connect so rotated credentials apply without a restart.
  if (settings.credentials) {
    const file = settings.credentials;
    authenticator.push(credsAuthenticator(() => readFileSync(file)));
  }
  if (settings.nkeySeedFile) {
    const file = settings.nkeySeedFile;
    authenticator.push(nkeyAuthenticator(() => new TextEncoder().encode(readFileSync(file, 'utf8').trim())));
  }
  if (settings.user !== null && settings.password !== null) authenticator.push(usernamePasswordAuthenticator(settings.user, settings.password));
  if (settings.token) authenticator.push(tokenAuthenticator(settings.token));
  return {
    servers: settings.url,
    name: opts.name,
    authenticator: authenticator.length > 0 ? authenticator : undefined,
    maxReconnectAttempts: -1,
    reconnectTimeWait: opts.retryDelayMs ?? 2000,
    timeout: opts.connectTimeoutMs ?? 5000,
    pingInterval: opts.pingIntervalMs ?? 20_000,
    waitOnFirstConnect: false, // our loop retries the first connect, and can be stopped
    noAsyncTraces: true, // no stack capture per request: a third of the publish cost otherwise
  };
}

export class NatsLink {
  #state: LinkState = 'connecting';
  #nc: NatsConnection | null = null;
  #lastError: string | null = null;
  #lastReported: string | undefined;
  #listeners = new Set<(event: LinkEvent) => void>();
  #closing = false;
  readonly #pauser = new WakeablePause();
  #loop: Promise<void> | null = null;
  readonly #options: NodeConnectionOptions;
  readonly #retryDelayMs: number;

  constructor(settings: ProbeConfig['nats'], opts: NatsLinkOptions = {}) {
    this.#options = connectOptions(settings, opts);
    this.#retryDelayMs = opts.retryDelayMs ?? 2000;
  }

  /** Starts connecting in the background; returns at once. */
  start(): void {
    this.#loop ??= this.#run();
  }

  get state(): LinkState {
    return this.#state;
  }

  /** The live connection, or null while there is none or it is reconnecting. */
  get connection(): NatsConnection | null {
    return this.#state === 'connected' ? this.#nc : null;
  }

  get lastError(): string | null {
    return this.#lastError;
  }

  /** Calls `listener` on every state change; returns a function that unsubscribes. */
  onChange(listener: (event: LinkEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Drains the connection (pending publishes go out, bounded in time) and stops reconnecting. */
  async close(drainTimeoutMs = 2000): Promise<void> {
    if (this.#closing) return this.#loop ?? undefined;
    this.#closing = true;
    this.#pauser.wake();
    const nc = this.#nc;
    if (nc && !nc.isClosed()) {
      // Draining needs the server; while reconnecting there is nothing to wait for.
      if (this.#state === 'connected') await withTimeout(nc.drain(), drainTimeoutMs).catch(() => undefined);
      if (!nc.isClosed()) await nc.close();
    }
    await this.#loop;
    this.#set({ state: 'closed' });
  }

  async #run(): Promise<void> {
    while (!this.#closing) {
      let nc: NatsConnection;
      try {
        nc = await connect(this.#options);
      } catch (err) {
        this.#noteError(err);
        this.#set({ state: 'connecting', error: this.#lastError ?? undefined });
        await this.#pauser.sleep(this.#retryDelayMs);
        continue;
      }
      if (this.#closing) {
        await nc.close();
        break;
      }
      this.#nc = nc;
      this.#set({ state: 'connected', server: nc.getServer() });
      const watching = this.#watch(nc);
      const closedWith = await nc.closed();
      await watching;
      this.#nc = null;
      if (closedWith) this.#noteError(closedWith);
      if (!this.#closing) {
        this.#set({ state: 'connecting', error: this.#lastError ?? undefined });
        await this.#pauser.sleep(this.#retryDelayMs);
      }
    }
  }

  /** Follows the client's own reconnects (its status stream ends when it closes). */
  async #watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') this.#set({ state: 'reconnecting', server: status.server });
      else if (status.type === 'reconnect') this.#set({ state: 'connected', server: status.server });
      else if (status.type === 'error') this.#noteError(status.error);
    }
  }

  #set(event: LinkEvent): void {
    if (this.#closing && event.state !== 'closed') return;
    // Report a repeated 'connecting' only when its error changes: one log line per problem.
    if (event.state === this.#state && (event.state !== 'connecting' || event.error === this.#lastReported)) return;
    this.#state = event.state;
    this.#lastReported = event.error;
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // a listener's bug must not stop the connection loop
      }
    }
  }

  #noteError(err: unknown): void {
    this.#lastError = err instanceof Error ? err.message : String(err);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
