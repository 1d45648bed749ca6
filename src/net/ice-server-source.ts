import { consoleLogger, type NetLogger } from './logger.js';
import { isRecord } from './wire-guards.js';

/** What peer connections are configured with: the server's answer at `/ice-servers`, checked. */
export interface IceConfiguration {
  readonly iceServers: RTCIceServer[];
  readonly iceTransportPolicy: RTCIceTransportPolicy;
  /** Unix seconds when the TURN credentials expire; null when nothing expires. */
  readonly expiresAt: number | null;
}

/** The part of `Storage` the source keeps its last good answer in (`localStorage` fits). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** Options of `IceServerSource`. */
export interface IceServerSourceOptions {
  /** The server's `/ice-servers`, e.g. `https://example.org/ice-servers`. */
  readonly url: string;
  readonly fetchImpl?: typeof fetch;
  /** Where the last good answer is kept for starts without the server. Default `localStorage` when there is one. */
  readonly store?: KeyValueStore | null;
  /** Clock in ms. Default `Date.now`. */
  readonly now?: () => number;
  /** A failed fetch is retried after this long. Default 60 s. */
  readonly retryMs?: number;
  /** A fetch not answered after this long counts as failed (the room opens with the last answer). Default 5 s. */
  readonly timeoutMs?: number;
  readonly logger?: NetLogger;
}

const STORE_KEY = 'ednet-p2p/ice-servers';
const MAX_SERVERS = 16;
const MAX_URLS = 16;
const MAX_TEXT = 512;
const ICE_URL = /^(stuns?|turns?):[^\s]+$/;
/** Renew when this share of a credential's life is left. */
const RENEW_AT_REMAINING = 0.2;
/** Never renew more often than this, whatever the server says. */
const MIN_RENEW_MS = 30_000;
/** Longest setTimeout delay that does not overflow. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Nothing configured: peers on one network only. */
export const NO_ICE: IceConfiguration = Object.freeze({ iceServers: [], iceTransportPolicy: 'all', expiresAt: null });

/**
 * The STUN/TURN servers the app's server offers (docs/production.md). `start` fetches them, keeps
 * the last good answer (in memory and in `store`, so a start without the server still uses the
 * last relay), and fetches again before the TURN credentials expire. `current` is read by every
 * new peer connection. Never throws after construction: a failed or malformed answer is logged
 * and the last good one stays.
 */
export class IceServerSource {
  private readonly url: string;
  private readonly fetchImpl: typeof fetch;
  private readonly store: KeyValueStore | null;
  private readonly now: () => number;
  private readonly retryMs: number;
  private readonly timeoutMs: number;
  private readonly logger: NetLogger;
  private value: IceConfiguration;
  private fetchedAt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;

  constructor(options: IceServerSourceOptions) {
    this.url = options.url;
    this.fetchImpl = options.fetchImpl ?? ((input, init) => fetch(input, init));
    this.store = options.store === undefined ? defaultStore() : options.store;
    this.now = options.now ?? Date.now;
    this.retryMs = options.retryMs ?? 60_000;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.logger = options.logger ?? consoleLogger;
    this.value = this.readStored() ?? NO_ICE;
  }

  /** The configuration for a peer connection made now. */
  current(): IceConfiguration {
    return this.value;
  }

  /** Fetches once (resolving when that is done, failed or not), then keeps the answer fresh until `stop`. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.refresh();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  /** Fetches now; true if a good answer came. */
  async refresh(): Promise<boolean> {
    clearTimeout(this.timer);
    let ok = false;
    try {
      const response = await this.fetchImpl(this.url, { cache: 'no-store', credentials: 'omit', signal: AbortSignal.timeout(this.timeoutMs) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const parsed = parseIceConfiguration(await response.json());
      if ('error' in parsed) throw new Error(parsed.error);
      this.value = parsed;
      this.fetchedAt = this.now();
      this.writeStored(parsed);
      ok = true;
    } catch (error) {
      this.logger.warn(`could not fetch the ICE servers from ${this.url}; keeping the last ones`, error);
    }
    if (this.running) this.timer = setTimeout(() => void this.refresh(), ok ? this.renewDelay() : this.retryMs);
    return ok;
  }

  /** Before the credentials expire: when a fifth of their life is left. */
  private renewDelay(): number {
    const expiresAt = this.value.expiresAt;
    if (expiresAt === null) return MAX_TIMER_MS;
    const life = expiresAt * 1000 - this.fetchedAt;
    return Math.min(MAX_TIMER_MS, Math.max(MIN_RENEW_MS, life * (1 - RENEW_AT_REMAINING)));
  }

  private readStored(): IceConfiguration | undefined {
    try {
      const text = this.store?.getItem(STORE_KEY);
      if (!text) return undefined;
      const parsed = parseIceConfiguration(JSON.parse(text));
      return 'error' in parsed ? undefined : parsed;
    } catch {
      return undefined; // Storage disabled or a broken entry: as if none was kept.
    }
  }

  private writeStored(value: IceConfiguration): void {
    try {
      this.store?.setItem(STORE_KEY, JSON.stringify(value));
    } catch {
      // Storage disabled: the answer lasts for this session only.
    }
  }
}

/** Checks an `/ice-servers` answer (untrusted: it configures where this browser sends traffic); never throws. */
export function parseIceConfiguration(raw: unknown): IceConfiguration | { readonly error: string } {
  if (!isRecord(raw)) return { error: 'the answer is not an object' };
  const { iceServers, iceTransportPolicy, expiresAt } = raw;
  if (!Array.isArray(iceServers) || iceServers.length > MAX_SERVERS) return { error: `iceServers must be an array of at most ${MAX_SERVERS}` };
  const servers: RTCIceServer[] = [];
  for (const server of iceServers) {
    if (!isRecord(server)) return { error: 'an ICE server is not an object' };
    const urls = typeof server.urls === 'string' ? [server.urls] : server.urls;
    if (!Array.isArray(urls) || urls.length === 0 || urls.length > MAX_URLS) return { error: 'an ICE server has no urls' };
    if (!urls.every((url) => typeof url === 'string' && url.length <= MAX_TEXT && ICE_URL.test(url))) return { error: 'an ICE server URL is not stun: or turn:' };
    const entry: { urls: string[]; username?: string; credential?: string } = { urls: [...urls] as string[] };
    for (const field of ['username', 'credential'] as const) {
      const value = server[field];
      if (value === undefined) continue;
      if (typeof value !== 'string' || value.length > MAX_TEXT) return { error: `an ICE server's ${field} is not text` };
      entry[field] = value;
    }
    servers.push(entry);
  }
  const policy = iceTransportPolicy ?? 'all';
  if (policy !== 'all' && policy !== 'relay') return { error: 'iceTransportPolicy must be all or relay' };
  if (expiresAt !== null && expiresAt !== undefined && !(typeof expiresAt === 'number' && Number.isSafeInteger(expiresAt) && expiresAt > 0)) {
    return { error: 'expiresAt must be Unix seconds or null' };
  }
  return { iceServers: servers, iceTransportPolicy: policy, expiresAt: expiresAt ?? null };
}

function defaultStore(): KeyValueStore | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}
