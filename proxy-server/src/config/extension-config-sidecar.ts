/**
 * The sections of `extension.config` that this sidecar adds to Argo CD's schema
 * (extension-config.ts): Argo CD ignores them, this sidecar reads and validates them. On a
 * backend: `responseTimeout` (read with Argo CD's durations), `limits`, `rateLimit`,
 * `retries`, `circuitBreaker`; on a service: `tls`, `delegate`, `failoverUrls`. Their
 * meaning and defaults: types.ts ("extension-proxy only").
 */
import {
  BackendConfig,
  BackendTlsConfig,
  CircuitBreakerConfig,
  DEFAULT_CIRCUIT_FAILURES,
  DEFAULT_CIRCUIT_OPEN_MS,
  DEFAULT_RESPONSE_TIMEOUT_MS,
  DEFAULT_RETRY_ATTEMPTS,
  DEFAULT_RETRY_BUDGET_PERCENT,
  LimitsConfig,
  RateLimitConfig,
  RetryConfig,
  ServiceConfig,
} from './types';
import {
  Context,
  Obj,
  readDuration,
  readOptionalMapping,
  readUrl,
  resolveValue,
} from './extension-config-reader';

/** Delegate agent names: the same characters as extension names (they go in secret keys). */
export const DELEGATE_NAME = /^[A-Za-z0-9-_]+$/;

/** argocd-secret key holding the token that delegate agent `name` authenticates with. */
export function delegateTokenKey(name: string): string {
  return `delegate.${name}.token`;
}

/** A backend's fields beyond Argo CD's ProxyConfig and services. */
export const SIDECAR_BACKEND_FIELDS = [
  'responseTimeout',
  'limits',
  'rateLimit',
  'retries',
  'circuitBreaker',
  'allowRequestsWithoutApplication',
];

/** A service's fields beyond Argo CD's ServiceConfig. */
export const SIDECAR_SERVICE_FIELDS = ['tls', 'delegate', 'failoverUrls'];

/** A backend's sidecar-only fields but `circuitBreaker`, read after Argo CD's ProxyConfig. */
export function readSidecarBackendFields(
  doc: Obj,
  prefix: string,
  ctx: Context,
): Pick<BackendConfig, 'responseTimeoutMs' | 'limits' | 'rateLimit' | 'retries'> {
  return {
    responseTimeoutMs: readDuration(
      doc,
      'responseTimeout',
      prefix,
      ctx,
      DEFAULT_RESPONSE_TIMEOUT_MS,
    ),
    limits: readLimits(doc.limits, `${prefix}limits`, ctx),
    rateLimit: readRateLimit(doc.rateLimit, `${prefix}rateLimit`, ctx),
    retries: readRetries(doc.retries, `${prefix}retries`, ctx),
  };
}

/**
 * A backend's `allowRequestsWithoutApplication`, read after its services: a request without
 * an application has no destination to route by, so it needs exactly one service, and one
 * that names no `cluster` (it would otherwise serve other clusters' users too).
 */
export function readRequestsWithoutApplication(
  doc: Obj,
  prefix: string,
  services: ServiceConfig[],
  ctx: Context,
): boolean {
  const value = doc.allowRequestsWithoutApplication;
  const path = `${prefix}allowRequestsWithoutApplication`;
  if (value === undefined || value === null || value === false) return false;
  if (value !== true) {
    ctx.problem(path, 'must be true or false');
    return false;
  }
  if (services.length !== 1 || services[0].cluster) {
    ctx.problem(
      path,
      'needs exactly one service without cluster: a request without an application has no destination to route by',
    );
  }
  return true;
}

/**
 * A backend's `circuitBreaker`, read after its services: when it is not set, a service with
 * `failoverUrls` turns it on with the defaults, so requests skip a URL that keeps failing.
 */
export function readBackendCircuitBreaker(
  doc: Obj,
  prefix: string,
  services: ServiceConfig[],
  ctx: Context,
): CircuitBreakerConfig | undefined {
  const breaker = readCircuitBreaker(doc.circuitBreaker, `${prefix}circuitBreaker`, ctx);
  const failover = services.some((svc) => (svc.failoverUrls?.length ?? 0) > 0);
  return (
    breaker ??
    (failover
      ? { consecutiveFailures: DEFAULT_CIRCUIT_FAILURES, openForMs: DEFAULT_CIRCUIT_OPEN_MS }
      : undefined)
  );
}

/**
 * A service's sidecar-only fields, read after Argo CD's (`url` is the one read there): how
 * the sidecar reaches the service — over TLS with its own settings, or through a delegate,
 * and at which other URLs. `tls` and `delegate` exclude each other, as do `delegate` and
 * `failoverUrls`.
 */
export function readSidecarServiceFields(
  svc: Obj,
  path: string,
  url: URL | undefined,
  ctx: Context,
): Pick<ServiceConfig, 'tls' | 'delegate' | 'failoverUrls'> {
  const tls = readTls(svc.tls, `${path}.tls`, ctx);
  if (url && tls && url.protocol !== 'https:') {
    ctx.problem(`${path}.tls`, 'is only allowed with an https url');
  }
  const delegate = readDelegate(svc.delegate, `${path}.delegate`, tls !== undefined, ctx);
  const failoverUrls = readFailoverUrls(svc.failoverUrls, `${path}.failoverUrls`, url, ctx);
  if (failoverUrls && delegate !== undefined) {
    ctx.problem(`${path}.failoverUrls`, 'cannot be combined with delegate');
  }
  const fields: Pick<ServiceConfig, 'tls' | 'delegate' | 'failoverUrls'> =
    delegate === undefined ? { tls } : { delegate };
  if (failoverUrls) fields.failoverUrls = failoverUrls;
  return fields;
}

/** Other URLs of the same service: same scheme (TLS settings apply to all), each valid. */
function readFailoverUrls(
  value: unknown,
  path: string,
  primary: URL | undefined,
  ctx: Context,
): URL[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    ctx.problem(path, 'must be a non-empty list of URLs');
    return undefined;
  }
  const urls: URL[] = [];
  value.forEach((item: unknown, i) => {
    const url = readUrl(item, `${path}[${i}]`, ctx);
    if (!url) return;
    if (primary && url.protocol !== primary.protocol) {
      ctx.problem(`${path}[${i}]`, `must use ${primary.protocol.slice(0, -1)} like url`);
    }
    // The request path is built from url's path; another one here would be ignored.
    if (primary && url.pathname !== primary.pathname) {
      ctx.problem(`${path}[${i}]`, `must have the same path as url (${primary.pathname})`);
    }
    urls.push(url);
  });
  return urls;
}

function readLimits(raw: unknown, path: string, ctx: Context): LimitsConfig {
  const value = readOptionalMapping(raw, path, ctx, 'a mapping', [
    'maxRequestBodyBytes',
    'maxRequestHeaderBytes',
    'maxConcurrentRequests',
  ]);
  if (!value) return {};
  const limits: LimitsConfig = {};
  for (const field of [
    'maxRequestBodyBytes',
    'maxRequestHeaderBytes',
    'maxConcurrentRequests',
  ] as const) {
    const n = readPositive(value[field], `${path}.${field}`, ctx, false);
    if (n !== undefined) limits[field] = n;
  }
  return limits;
}

function readRateLimit(raw: unknown, path: string, ctx: Context): RateLimitConfig {
  const value = readOptionalMapping(raw, path, ctx, 'a mapping', ['perUser', 'perExtension']);
  if (!value) return {};
  const config: RateLimitConfig = {};
  for (const scope of ['perUser', 'perExtension'] as const) {
    const bucket = readOptionalMapping(value[scope], `${path}.${scope}`, ctx, 'a mapping', [
      'requestsPerSecond',
      'burst',
    ]);
    if (!bucket) continue;
    const rate = readPositive(
      bucket.requestsPerSecond,
      `${path}.${scope}.requestsPerSecond`,
      ctx,
      true,
    );
    if (rate === undefined) {
      ctx.problem(`${path}.${scope}.requestsPerSecond`, 'must be set');
      continue;
    }
    const burst = readPositive(bucket.burst, `${path}.${scope}.burst`, ctx, false);
    config[scope] = { requestsPerSecond: rate, burst: burst ?? Math.max(1, Math.ceil(rate)) };
  }
  return config;
}

function readRetries(raw: unknown, path: string, ctx: Context): RetryConfig {
  const config: RetryConfig = {
    attempts: DEFAULT_RETRY_ATTEMPTS,
    budgetPercent: DEFAULT_RETRY_BUDGET_PERCENT,
  };
  const value = readOptionalMapping(raw, path, ctx, 'a mapping', ['attempts', 'budgetPercent']);
  if (!value) return config;
  if (value.attempts !== undefined) {
    if (
      typeof value.attempts !== 'number' ||
      !Number.isInteger(value.attempts) ||
      value.attempts < 0 ||
      value.attempts > 5
    ) {
      ctx.problem(`${path}.attempts`, 'must be a whole number from 0 to 5');
    } else config.attempts = value.attempts;
  }
  if (value.budgetPercent !== undefined) {
    if (
      typeof value.budgetPercent !== 'number' ||
      !(value.budgetPercent >= 0 && value.budgetPercent <= 100)
    ) {
      ctx.problem(`${path}.budgetPercent`, 'must be a number from 0 to 100');
    } else config.budgetPercent = value.budgetPercent;
  }
  return config;
}

function readCircuitBreaker(
  raw: unknown,
  path: string,
  ctx: Context,
): CircuitBreakerConfig | undefined {
  const value = readOptionalMapping(raw, path, ctx, 'a mapping', [
    'consecutiveFailures',
    'openFor',
  ]);
  if (!value) return undefined;
  return {
    consecutiveFailures:
      readPositive(value.consecutiveFailures, `${path}.consecutiveFailures`, ctx, false) ??
      DEFAULT_CIRCUIT_FAILURES,
    openForMs: readDuration(value, 'openFor', `${path}.`, ctx, DEFAULT_CIRCUIT_OPEN_MS),
  };
}

/** A positive number (a whole one unless `fractional`), or undefined when absent. */
function readPositive(
  value: unknown,
  path: string,
  ctx: Context,
  fractional: boolean,
): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (
    typeof value !== 'number' ||
    !(value > 0) ||
    !Number.isFinite(value) ||
    (!fractional && !Number.isInteger(value))
  ) {
    ctx.problem(path, fractional ? 'must be a number above 0' : 'must be a whole number above 0');
    return undefined;
  }
  return value;
}

/**
 * `delegate: NAME`. Its token must be in argocd-secret: without it no agent could connect,
 * and every request would fail at run time instead of at load.
 */
function readDelegate(
  value: unknown,
  path: string,
  hasTls: boolean,
  ctx: Context,
): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !DELEGATE_NAME.test(value)) {
    ctx.problem(path, 'must be a delegate name matching ^[A-Za-z0-9-_]+$');
    return undefined;
  }
  const key = delegateTokenKey(value);
  if (!ctx.secrets[key]) {
    ctx.missingSecret(
      path,
      `needs argocd-secret key ${key} (the token agent ${value} connects with)`,
    );
  }
  if (hasTls) {
    // The agent dials the backend; TLS to it is the agent's business (its CA flags).
    ctx.problem(path, 'cannot be combined with tls (the delegate agent makes the TLS connection)');
  }
  return value;
}

function readTls(raw: unknown, path: string, ctx: Context): BackendTlsConfig | undefined {
  const fields = ['ca', 'cert', 'key', 'serverName', 'insecureSkipVerify'];
  const value = readOptionalMapping(raw, path, ctx, 'a mapping', fields);
  if (!value) return undefined;
  const tls: BackendTlsConfig = { insecureSkipVerify: false };
  if (value.ca !== undefined) tls.ca = resolveValue(value.ca, `${path}.ca`, ctx);
  if (value.cert !== undefined) tls.cert = resolveValue(value.cert, `${path}.cert`, ctx);
  if (value.key !== undefined) {
    if (typeof value.key !== 'string' || !value.key.startsWith('$')) {
      // SECURITY: a private key must come from argocd-secret, not sit in argocd-cm.
      ctx.problem(`${path}.key`, 'must be a $key reference to argocd-secret');
    } else {
      tls.key = resolveValue(value.key, `${path}.key`, ctx);
    }
  }
  // Compared as configured: a reference to a missing key fails the extension on its own.
  if ((value.cert === undefined) !== (value.key === undefined)) {
    ctx.problem(path, 'cert and key must be set together');
  }
  if (value.serverName !== undefined) {
    if (typeof value.serverName !== 'string' || value.serverName === '') {
      ctx.problem(`${path}.serverName`, 'must be a non-empty string');
    } else tls.serverName = value.serverName;
  }
  if (value.insecureSkipVerify !== undefined) {
    if (typeof value.insecureSkipVerify !== 'boolean') {
      ctx.problem(`${path}.insecureSkipVerify`, 'must be true or false');
    } else if (value.insecureSkipVerify) {
      tls.insecureSkipVerify = true;
      ctx.warn(`${path}.insecureSkipVerify`, 'is true: the backend certificate is not verified');
    }
  }
  return tls;
}
