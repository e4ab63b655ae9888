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
