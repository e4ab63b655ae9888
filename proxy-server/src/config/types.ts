/**
 * The extension configuration, as read from argocd-cm. The field names and defaults are
 * Argo CD's own (server/extension/extension.go); fields marked "extension-proxy only" are
 * additional fields that Argo CD ignores.
 */

/** One extension: `extensions[]` in `extension.config`, or a whole `extension.config.<name>` key. */
export interface ExtensionConfig {
  /**
   * The URL segment after `/extensions/`; matches `^[A-Za-z0-9-_]+$`, unique.
   * Example: `anomaly`
   */
  name: string;
  backend: BackendConfig;
  /**
   * Set when the configuration is valid but names argocd-secret keys that are missing or
   * empty (a `$key` value, a delegate token): requests to this extension get 503, the
   * others are unaffected. Each entry names the key and its path, never a value.
   */
  unavailable?: string[];
}

export interface BackendConfig {
  /** Dial timeout in ms. Default: 2000 (`connectionTimeout: 2s`). */
  connectionTimeoutMs: number;
  /** TCP keep-alive probe interval in ms. Default: 15000 (`keepAlive: 15s`). */
  keepAliveMs: number;
  /** How long an idle pooled connection is kept, in ms. Default: 60000 (`idleConnectionTimeout: 60s`). */
  idleConnectionTimeoutMs: number;
  /** Idle connections kept per service. Default: 30 (`maxIdleConnections: 30`). */
  maxIdleConnections: number;
  /**
   * Extension-proxy only: time to wait for the backend's response headers, in ms; past it
   * the client gets 504. Default: 60000 (`responseTimeout: 60s`).
   */
  responseTimeoutMs: number;
  /** At least one. With more than one, each must name its `cluster`. */
  services: ServiceConfig[];
  /** Extension-proxy only: size and concurrency limits. Default: none. */
  limits: LimitsConfig;
  /** Extension-proxy only: token buckets per user and per extension → 429. Default: none. */
  rateLimit: RateLimitConfig;
  /** Extension-proxy only: retries of requests that never reached the backend. */
  retries: RetryConfig;
  /**
   * Extension-proxy only: passive health per backend URL. Default: on (5 failures, 30s)
   * for services with `failoverUrls`, off otherwise.
   */
  circuitBreaker?: CircuitBreakerConfig;
  /**
   * Extension-proxy only, and looser than Argo CD (which refuses such calls): accept
   * requests that carry neither Argocd-Application-Name nor Argocd-Project-Name. They are
   * checked for a session and `extensions, invoke, <name>` only, reach the single service
   * (which must have no `cluster`), and carry the identity headers but no application,
   * project or cluster header: the backend scopes its answer itself
   * (docs/backend-teams.md). Default: false (`allowRequestsWithoutApplication: true`).
   */
  allowRequestsWithoutApplication?: true;
}

export interface LimitsConfig {
  /** Larger request bodies get 413 (Content-Length, or counted while streaming). Example: `10485760` */
  maxRequestBodyBytes?: number;
  /** Requests whose header block is larger get 431 (the session cookie counts). Example: `65536` */
  maxRequestHeaderBytes?: number;
  /** Requests in flight per service URL; beyond it 503 with Retry-After. Example: `100` */
  maxConcurrentRequests?: number;
}

export interface TokenBucketConfig {
  /** Requests per second, sustained. */
  requestsPerSecond: number;
  /** Requests allowed at once above the rate. Default: requestsPerSecond (at least 1). */
  burst: number;
}

export interface RateLimitConfig {
  /** For each user (subject) separately. */
  perUser?: TokenBucketConfig;
  /** For all users of the extension together. */
  perExtension?: TokenBucketConfig;
}

export interface RetryConfig {
  /**
   * Further attempts for an idempotent request without a body whose connection failed
   * before any byte reached the backend (refused, reset, connect timeout). On another
   * failover URL when there is one. Default: 1; 0 disables.
   */
  attempts: number;
  /** Retries allowed as a share of requests (token bucket), so retries cannot multiply load. Default: 20 (%). */
  budgetPercent: number;
}

export interface CircuitBreakerConfig {
  /** Consecutive failures (connection errors, 502/503/504) that open a URL's circuit. Default: 5 */
  consecutiveFailures: number;
  /** How long an open circuit refuses requests before one probe is let through. Default: 30s */
  openForMs: number;
}

export interface ServiceConfig {
  /**
   * The backend's base URL; its path is kept and the request path after
   * `/extensions/<name>` is appended to it. Example: `http://anomaly.argocd.svc:8080/api`
   */
  url: URL;
  /** Which application destination this service serves; required with several services. */
  cluster?: ClusterConfig;
  /** Headers added to every request; values starting with `$` are argocd-secret keys, resolved. */
  headers: HeaderConfig[];
  /** Extension-proxy only: TLS settings for an https backend. */
  tls?: BackendTlsConfig;
  /**
   * Extension-proxy only: the same service at other URLs, tried in order when `url` fails
   * or its circuit is open (same path rules, headers and TLS). Example: `[http://anomaly-b:8080/api]`
   */
  failoverUrls?: URL[];
  /**
   * Extension-proxy only: the name of the delegate agent that carries this service's
   * requests (the url is then resolved and dialled inside the agent's network). The agent
   * authenticates with argocd-secret key `delegate.<name>.token`. Example: `onprem`
   */
  delegate?: string;
}

export interface ClusterConfig {
  /** Matches `spec.destination.name`. Example: `in-cluster` */
  name?: string;
  /** Matches `spec.destination.server`. Example: `https://kubernetes.default.svc` */
  server?: string;
}

export interface HeaderConfig {
  name: string;
  /** The resolved value (never the `$key` reference). */
  value: string;
}

/**
 * Extension-proxy only: `tls` of a service. PEM values may be inline or `$key` references
 * to argocd-secret; `key` must be a reference (a private key never sits in a ConfigMap).
 */
export interface BackendTlsConfig {
  /** CA bundle (PEM) that signs the backend's certificate. Default: Node's public CAs. */
  ca?: string;
  /** Client certificate (PEM) for mutual TLS. */
  cert?: string;
  /** Client private key (PEM), resolved from argocd-secret. */
  key?: string;
  /** SNI and certificate name to expect. Default: the URL's host. */
  serverName?: string;
  /** Skip certificate verification. Default: false. Logged as a warning at load. */
  insecureSkipVerify: boolean;
}

/** Defaults from Argo CD's server/extension/extension.go. */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 2_000;
export const DEFAULT_KEEP_ALIVE_MS = 15_000;
export const DEFAULT_IDLE_CONNECTION_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_IDLE_CONNECTIONS = 30;
export const DEFAULT_RESPONSE_TIMEOUT_MS = 60_000;
export const DEFAULT_RETRY_ATTEMPTS = 1;
export const DEFAULT_RETRY_BUDGET_PERCENT = 20;
export const DEFAULT_CIRCUIT_FAILURES = 5;
export const DEFAULT_CIRCUIT_OPEN_MS = 30_000;
