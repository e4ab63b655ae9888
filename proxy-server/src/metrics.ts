import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ForwardObserver } from './proxy/forwarder';

/** What the hot path counted for one label set since the last collection. */
interface PendingCount {
  labels: Record<string, string>;
  pending: number;
}

/** Adds the pending counts to `counter` (from its collect hook, i.e. at every scrape). */
function catchUp<T extends string>(counter: Counter<T>, counts: Map<string, PendingCount>): void {
  for (const count of counts.values()) {
    if (count.pending === 0) continue;
    counter.inc(count.labels as Partial<Record<T, string>>, count.pending);
    count.pending = 0;
  }
}

function countPending(counts: Map<string, PendingCount>, extension: string, status: number): void {
  const key = `${extension}\0${status}`;
  let count = counts.get(key);
  if (!count) {
    count = { labels: { extension, status: String(status) }, pending: 0 };
    counts.set(key, count);
  }
  count.pending++;
}

/** Observes through a cached label child (prom-client hashes the labels on each `labels`). */
function observe(
  children: Map<string, { observe(value: number): void }>,
  histogram: Histogram<'extension'>,
  extension: string,
  seconds: number,
): void {
  let child = children.get(extension);
  if (!child) {
    child = histogram.labels(extension);
    children.set(extension, child);
  }
  child.observe(seconds);
}

/**
 * Every metric the sidecar exports. The first two keep Argo CD's own names and labels
 * (server/metrics: argocd_proxy_extension_request_*) so existing dashboards work; the rest
 * are ours, prefixed `argocd_extension_proxy_`.
 */
export class ProxyMetrics {
  readonly registry = new Registry();

  /**
   * The per-request counters count with a plain addition; prom-client catches up at each
   * collection (its `collect` hook runs on every scrape). Its own `inc` — label children
   * included — validates and hashes the labels on every call: in isolation, ~1.1 µs per
   * request with a duration histogram, against ~0.3 µs this way (mostly the histogram). Label
   * values are bounded (configured extension names, HTTP statuses, hit/miss).
   */
  private readonly requestCounts = new Map<string, PendingCount>();
  private readonly cacheCounts = new Map<string, PendingCount>();
  private readonly durationHistograms = new Map<string, { observe(value: number): void }>();

  private readonly allRequestCounts = new Map<string, PendingCount>();
  private readonly allDurationHistograms = new Map<string, { observe(value: number): void }>();

  /**
   * One answered extension request. Every request counts in this project's own pair;
   * Argo CD's pair counts, as in Argo CD (server/extension/extension.go registerMetrics after
   * the reverse proxy ran), only requests handed to the backend: `proxied`, with the status
   * the client got (the backend's, or the proxy's 502/503/504 when the backend failed).
   */
  recordRequest(extension: string, status: number, seconds: number, proxied: boolean): void {
    countPending(this.allRequestCounts, extension, status);
    observe(this.allDurationHistograms, this.allDuration, extension, seconds);
    if (!proxied) return;
    countPending(this.requestCounts, extension, status);
    observe(this.durationHistograms, this.duration, extension, seconds);
  }

  /** One lookup in a request-path cache. */
  recordCacheLookup(cache: 'token' | 'application' | 'destination', hit: boolean): void {
    const key = hit ? `${cache}\0hit` : `${cache}\0miss`;
    let count = this.cacheCounts.get(key);
    if (!count) {
      count = { labels: { cache, result: hit ? 'hit' : 'miss' }, pending: 0 };
      this.cacheCounts.set(key, count);
    }
    count.pending++;
  }

  readonly requests: Counter<'extension' | 'status'> = new Counter({
    name: 'argocd_proxy_extension_request_total',
    help: 'Number of requests sent to configured proxy extensions.',
    labelNames: ['extension', 'status'] as const,
    registers: [this.registry],
    collect: (): void => catchUp(this.requests, this.requestCounts),
  });

  readonly duration = new Histogram({
    name: 'argocd_proxy_extension_request_duration_seconds',
    help: 'Request duration in seconds between the Argo CD API server and the extension backend.',
    labelNames: ['extension'] as const,
    // Argo CD's buckets (server/metrics/metrics.go), so its dashboards' quantiles match.
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [this.registry],
  });

  readonly allRequests: Counter<'extension' | 'status'> = new Counter({
    name: 'argocd_extension_proxy_requests_total',
    help: 'Every answered extension request, rejections included, by extension ("" when the path names no configured one) and HTTP status.',
    labelNames: ['extension', 'status'] as const,
    registers: [this.registry],
    collect: (): void => catchUp(this.allRequests, this.allRequestCounts),
  });

  readonly allDuration = new Histogram({
    name: 'argocd_extension_proxy_request_duration_seconds',
    help: 'Time to answer every extension request, rejections included, by extension.',
    labelNames: ['extension'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly authFailures = new Counter({
    name: 'argocd_extension_proxy_auth_failures_total',
    help: 'Requests rejected with 401, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly authzDenials = new Counter({
    name: 'argocd_extension_proxy_authz_denials_total',
    help: 'Requests rejected with 403, by extension and check (rbac, application, project).',
    labelNames: ['extension', 'check'] as const,
    registers: [this.registry],
  });

  readonly cacheLookups: Counter<'cache' | 'result'> = new Counter({
    name: 'argocd_extension_proxy_cache_lookups_total',
    help: 'Cache lookups on the request path, by cache (token, application, destination) and result (hit, miss).',
    labelNames: ['cache', 'result'] as const,
    registers: [this.registry],
    collect: (): void => catchUp(this.cacheLookups, this.cacheCounts),
  });

  readonly configReloads = new Counter({
    name: 'argocd_extension_proxy_config_reloads_total',
    help: 'Configuration loads, by result (success; partial: applied with problems in force; rejected: nothing applied).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly configLastReloadSuccess = new Gauge({
    name: 'argocd_extension_proxy_config_last_reload_successful',
    help: '1 when the last configuration reading was applied with no problem, 0 when some object was rejected or denies (see argocd_extension_proxy_config_problems).',
    registers: [this.registry],
  });

  readonly configProblems = new Gauge({
    name: 'argocd_extension_proxy_config_problems',
    help: 'Problems in force in the configuration, by object (argocd-cm, argocd-rbac-cm, argocd-secret); any above 0 changes what requests get (see /readyz).',
    labelNames: ['object'] as const,
    registers: [this.registry],
  });

  readonly configGeneration = new Gauge({
    name: 'argocd_extension_proxy_config_generation',
    help: 'Increments with every configuration applied.',
    registers: [this.registry],
  });

  readonly limited = new Counter({
    name: 'argocd_extension_proxy_limited_total',
    help: 'Requests refused by an extension limit, by extension and reason (rate-user, rate-extension, concurrency, body, headers).',
    labelNames: ['extension', 'reason'] as const,
    registers: [this.registry],
  });

  readonly retries = new Counter({
    name: 'argocd_extension_proxy_backend_retries_total',
    help: 'Requests sent again after a connection failure (within the retry budget), by extension.',
    labelNames: ['extension'] as const,
    registers: [this.registry],
  });

  readonly circuitState = new Gauge({
    name: 'argocd_extension_proxy_backend_circuit_state',
    help: 'Circuit of each backend URL with a circuit breaker: 0 closed, 1 open, 2 half-open.',
    labelNames: ['extension', 'url'] as const,
    registers: [this.registry],
  });

  /** Hooks for one extension's forwarders (retries, circuit changes, concurrency refusals). */
  forwardObserver(extension: string): ForwardObserver {
    const states = { closed: 0, open: 1, 'half-open': 2 } as const;
    return {
      retried: () => this.retries.inc({ extension }),
      circuit: (url, state) => this.circuitState.set({ extension, url: url.href }, states[state]),
      limited: (reason) => this.limited.inc({ extension, reason }),
    };
  }

  readonly delegateConnections = new Counter({
    name: 'argocd_extension_proxy_delegate_connections_total',
    help: 'Delegate agent connection attempts, by result (accepted, rejected); reconnects count too.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly delegateTunnels = new Gauge({
    name: 'argocd_extension_proxy_delegate_tunnels',
    help: 'Delegate agents connected now, by delegate name.',
    labelNames: ['delegate'] as const,
    registers: [this.registry],
  });

  readonly delegateStreams = new Gauge({
    name: 'argocd_extension_proxy_delegate_streams',
    help: 'Requests in flight through delegate tunnels, by delegate name.',
    labelNames: ['delegate'] as const,
    registers: [this.registry],
  });

  readonly delegateRelays = new Counter({
    name: 'argocd_extension_proxy_delegate_relays_total',
    help: 'Requests relayed between replicas for a delegate connected elsewhere, by direction (out, in) and result.',
    labelNames: ['direction', 'result'] as const,
    registers: [this.registry],
  });

  private delegateBytesSource?: () => Array<{ name: string; sent: number; received: number }>;

  /** The delegate hub reports tunnel bytes at scrape time (socket counters, no per-chunk work). */
  registerDelegateCollector(
    source: () => Array<{ name: string; sent: number; received: number }>,
  ): void {
    this.delegateBytesSource = source;
  }

  readonly delegateBytes = (() => {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const metrics = this;
    return new Counter({
      name: 'argocd_extension_proxy_delegate_bytes_total',
      help: 'Bytes through delegate tunnels (framing included), by delegate and direction (sent to the agent, received).',
      labelNames: ['delegate', 'direction'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const t of metrics.delegateBytesSource?.() ?? []) {
          this.inc({ delegate: t.name, direction: 'sent' }, t.sent);
          this.inc({ delegate: t.name, direction: 'received' }, t.received);
        }
      },
    });
  })();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'argocd_extension_proxy_' });
  }
}
