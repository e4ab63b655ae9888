import type Redis from 'ioredis';
import { Logger } from '../../logger';

/** Redis key listing the replicas that hold a tunnel of one delegate (a sorted set). */
export function registryKey(delegate: string): string {
  return `argocd-extension-proxy|delegate|${delegate}`;
}

export interface ReplicaRegistryOptions {
  /** Argo CD's Redis, `host:port` (argocd-redis:6379). */
  address: string;
  /** Argo CD's Redis password (Secret argocd-redis, key auth), if any. */
  password?: string;
  /** How peers reach this replica's relay listener, `host:port` (the pod IP). */
  advertise: string;
  /** How long an entry lives without a refresh; refreshed every third of it. Default: 15s. */
  ttlMs?: number;
  logger: Logger;
}

/**
 * Which sidecar replica holds a tunnel of which delegate, in the Redis that Argo CD already
 * runs. One sorted set per delegate name: members are the replicas' relay addresses, scores
 * the time each entry expires. A replica refreshes its entries every ttl/3 while it holds a
 * tunnel and removes them when the last one closes; a replica that dies simply stops
 * refreshing, and its entries are ignored once their score has passed. No cluster protocol
 * of our own: Redis is the directory, the pod IPs are the addresses.
 */
export class ReplicaRegistry {
  private readonly redis: Redis;
  private readonly ttlMs: number;
  private readonly held = new Set<string>();
  private readonly lookups = new Map<string, { peers: Promise<string[]>; until: number }>();
  private timer?: NodeJS.Timeout;
  private lastError = '';

  constructor(private readonly options: ReplicaRegistryOptions) {
    const [host, port] = splitHostPort(options.address);
    this.ttlMs = options.ttlMs ?? 15_000;
    // Loaded here, not at the top: ioredis is ~8 MiB of resident memory that a sidecar
    // without --redis (a single replica) never needs.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const RedisClient = (require('ioredis') as typeof import('ioredis')).default;
    this.redis = new RedisClient({
      host,
      port,
      password: options.password || undefined,
      lazyConnect: false,
      // Fail fast instead of queueing: a request must not wait for a Redis that is down.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      retryStrategy: (times) => Math.min(times * 200, 2_000),
    });
    this.redis.on('error', (err: Error) => this.reportError(err));
    this.redis.on('ready', () => {
      if (this.lastError) options.logger.info('replica registry (Redis) reachable again');
      this.lastError = '';
      void this.refresh();
    });
  }

  start(): void {
    this.timer = setInterval(() => void this.refresh(), Math.max(100, this.ttlMs / 3));
    this.timer.unref();
  }

  /** The delegates this replica holds a tunnel of, after every change. */
  setHeld(names: Iterable<string>): void {
    const next = new Set(names);
    const removed = [...this.held].filter((n) => !next.has(n));
    this.held.clear();
    for (const n of next) this.held.add(n);
    for (const name of removed) {
      this.redis
        .zrem(registryKey(name), this.options.advertise)
        .catch((e: Error) => this.reportError(e));
    }
    void this.refresh();
  }

  /**
   * Relay addresses of the other replicas holding a tunnel of `delegate`. Answers are
   * reused for a second, so a burst of requests costs one Redis round trip. Throws when
   * Redis cannot be asked.
   */
  peers(delegate: string): Promise<string[]> {
    const now = Date.now();
    const cached = this.lookups.get(delegate);
    if (cached && cached.until > now) return cached.peers;
    const peers = this.redis
      .zrangebyscore(registryKey(delegate), now, '+inf')
      .then((members) => members.filter((m) => m !== this.options.advertise));
    this.lookups.set(delegate, { peers, until: now + 1_000 });
    peers.catch(() => this.lookups.delete(delegate));
    return peers;
  }

  /** Removes this replica's entries and disconnects (shutdown). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const names = [...this.held];
    this.held.clear();
    try {
      await Promise.all(names.map((n) => this.redis.zrem(registryKey(n), this.options.advertise)));
    } catch {
      // Redis down: the entries expire by themselves.
    }
    this.redis.disconnect();
  }

  private async refresh(): Promise<void> {
    if (this.held.size === 0 || this.redis.status !== 'ready') return;
    const now = Date.now();
    const pipeline = this.redis.pipeline();
    for (const name of this.held) {
      const key = registryKey(name);
      pipeline.zadd(key, now + this.ttlMs, this.options.advertise);
      // Entries of replicas that died long ago go too, and so does the key when unused.
      pipeline.zremrangebyscore(key, '-inf', now - this.ttlMs);
      pipeline.pexpire(key, this.ttlMs * 4);
    }
    try {
      await pipeline.exec();
    } catch (err) {
      this.reportError(err as Error);
    }
  }

  private reportError(err: Error): void {
    // Once per distinct error, not once per retry.
    if (err.message === this.lastError) return;
    this.lastError = err.message;
    this.options.logger.warn(
      'replica registry (Redis) unavailable: requests for delegates connected to other replicas will fail',
      {
        error: err.message,
      },
    );
  }
}

export function splitHostPort(text: string): [string, number] {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  if (!match) throw new Error(`"${text}" is not HOST:PORT`);
  return [match[1] ?? match[2], Number(match[3])];
}
