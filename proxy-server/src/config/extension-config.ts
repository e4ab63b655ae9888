import { validateHeaderValue } from 'http';
import YAML from 'yaml';
import { parseGoDuration } from './duration';
import {
  BackendConfig,
  BackendTlsConfig,
  CircuitBreakerConfig,
  ClusterConfig,
  DEFAULT_CIRCUIT_FAILURES,
  DEFAULT_CIRCUIT_OPEN_MS,
  DEFAULT_RETRY_ATTEMPTS,
  DEFAULT_RETRY_BUDGET_PERCENT,
  LimitsConfig,
  RateLimitConfig,
  RetryConfig,
  DEFAULT_CONNECTION_TIMEOUT_MS,
  DEFAULT_IDLE_CONNECTION_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_MS,
  DEFAULT_MAX_IDLE_CONNECTIONS,
  DEFAULT_RESPONSE_TIMEOUT_MS,
  ExtensionConfig,
  HeaderConfig,
  ServiceConfig,
} from './types';
import { isReservedHeaderName } from '../proxy/header-names';

/** argocd-cm key holding `extensions: [{name, backend}]`. */
export const EXTENSION_CONFIG_KEY = 'extension.config';

/** Same pattern as Argo CD's validateConfigs (server/extension/extension.go). */
const EXTENSION_NAME = /^[A-Za-z0-9-_]+$/;
/** Delegate agent names: the same characters as extension names (they go in secret keys). */
export const DELEGATE_NAME = /^[A-Za-z0-9-_]+$/;

/** argocd-secret key holding the token that delegate agent `name` authenticates with. */
export function delegateTokenKey(name: string): string {
  return `delegate.${name}.token`;
}

/** The longest delay a Node timer can hold (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;
/** RFC 9110 token: what a header field name may contain. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export interface ParsedExtensions {
  /** Extensions whose only problems are missing argocd-secret keys carry `unavailable`. */
  extensions: Map<string, ExtensionConfig>;
  /** Config errors: any one rejects the whole configuration. */
  problems: string[];
  /** Suspicious but accepted (unknown fields Argo CD would ignore, insecure TLS). */
  warnings: string[];
  /** Every secret value the configuration resolved, so logs can redact them. */
  secretValues: Set<string>;
}

type Obj = Record<string, unknown>;

/**
 * Reads every `extension.config` and `extension.config.<name>` key of argocd-cm, the way
 * Argo CD's settings.getExtensionConfigs and extension.parseAndValidateConfig do, and
 * validates all of it. Every problem is reported with its key and dotted path; nothing is
 * returned half-parsed: when `problems` is non-empty the result must not be used.
 */
export function parseExtensionConfigs(
  argocdCm: Record<string, string>,
  secrets: Record<string, string>,
): ParsedExtensions {
  const result: ParsedExtensions = {
    extensions: new Map(),
    problems: [],
    warnings: [],
    secretValues: new Set(),
  };
  const keys = Object.keys(argocdCm)
    .filter((k) => k === EXTENSION_CONFIG_KEY || k.startsWith(EXTENSION_CONFIG_KEY + '.'))
    .sort();
  for (const key of keys) {
    const ctx = new Context(key, result, secrets);
    const doc = parseYaml(argocdCm[key], ctx);
    if (doc === undefined) continue;
    if (key === EXTENSION_CONFIG_KEY) {
      readExtensionList(doc, ctx);
    } else {
      // `extension.config.<name>` holds the backend object directly.
      const name = key.slice(EXTENSION_CONFIG_KEY.length + 1);
      addExtension(name, readBackend(doc, '', ctx), '', ctx);
    }
  }
  return result;
}

/** Collects problems for one argocd-cm key, each prefixed with the key and a path. */
class Context {
  constructor(
    readonly key: string,
    readonly result: ParsedExtensions,
    readonly secrets: Record<string, string>,
  ) {}
  /** Missing argocd-secret keys of the extension being read (they fail that extension only). */
  private missingSecrets: string[] = [];
  problem(path: string, message: string): void {
    this.result.problems.push(`${this.key}: ${path ? path + ' ' : ''}${message}`);
  }
  missingSecret(path: string, message: string): void {
    this.missingSecrets.push(`${this.key}: ${path ? path + ' ' : ''}${message}`);
  }
  /** The missing keys recorded since the last call. */
  takeMissingSecrets(): string[] {
    const taken = this.missingSecrets;
    this.missingSecrets = [];
    return taken;
  }
  warn(path: string, message: string): void {
    this.result.warnings.push(`${this.key}: ${path ? path + ' ' : ''}${message}`);
  }
}

function parseYaml(text: string, ctx: Context): Obj | undefined {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    // The YAML library's message names line and column, never secret values (none yet).
    ctx.problem('', `is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
  if (doc === null || doc === undefined) {
    ctx.problem('', 'is empty');
    return undefined;
  }
  if (!isObject(doc)) {
    ctx.problem('', 'must be a YAML mapping');
    return undefined;
  }
  return doc;
}

function readExtensionList(doc: Obj, ctx: Context): void {
  warnUnknownFields(doc, ['extensions'], '', ctx);
  const list = doc.extensions;
  if (list === undefined || list === null) {
    ctx.problem('extensions', 'must be set');
    return;
  }
  if (!Array.isArray(list)) {
    ctx.problem('extensions', 'must be a list');
    return;
  }
  list.forEach((entry: unknown, i) => {
    const path = `extensions[${i}]`;
    if (!isObject(entry)) {
      ctx.problem(path, 'must be a mapping with name and backend');
      return;
    }
    warnUnknownFields(entry, ['name', 'backend'], path, ctx);
    const name = typeof entry.name === 'string' ? entry.name : '';
    if (entry.name !== undefined && typeof entry.name !== 'string') {
      ctx.problem(`${path}.name`, 'must be a string');
    }
    let backend: BackendConfig | undefined;
    if (!isObject(entry.backend)) {
      ctx.problem(`${path}.backend`, 'must be set to a mapping with services');
    } else {
      backend = readBackend(entry.backend, `${path}.backend.`, ctx);
    }
    addExtension(name, backend, path, ctx);
  });
}

function addExtension(
  name: string,
  backend: BackendConfig | undefined,
  path: string,
  ctx: Context,
): void {
  const namePath = path ? `${path}.name` : 'name';
  const missingSecrets = ctx.takeMissingSecrets();
  if (name === '') {
    ctx.problem(namePath, 'must be set');
    return;
  }
  if (!EXTENSION_NAME.test(name)) {
    ctx.problem(
      namePath,
      `"${name}" is invalid: only letters, digits, hyphens and underscores are allowed`,
    );
    return;
  }
  if (ctx.result.extensions.has(name)) {
    ctx.problem(namePath, `"${name}" is configured more than once`);
    return;
  }
  if (!backend) return;
  ctx.result.extensions.set(
    name,
    missingSecrets.length > 0 ? { name, backend, unavailable: missingSecrets } : { name, backend },
  );
}

const BACKEND_FIELDS = [
  'connectionTimeout',
  'keepAlive',
  'idleConnectionTimeout',
  'maxIdleConnections',
  'responseTimeout',
  'services',
  'limits',
  'rateLimit',
  'retries',
  'circuitBreaker',
];

function readBackend(doc: Obj, prefix: string, ctx: Context): BackendConfig | undefined {
  warnUnknownFields(doc, BACKEND_FIELDS, prefix.replace(/\.$/, ''), ctx);
  const before = ctx.result.problems.length;
  const backend: BackendConfig = {
    connectionTimeoutMs: readDuration(
      doc,
      'connectionTimeout',
      prefix,
      ctx,
      DEFAULT_CONNECTION_TIMEOUT_MS,
    ),
    keepAliveMs: readDuration(doc, 'keepAlive', prefix, ctx, DEFAULT_KEEP_ALIVE_MS),
    idleConnectionTimeoutMs: readDuration(
      doc,
      'idleConnectionTimeout',
      prefix,
      ctx,
      DEFAULT_IDLE_CONNECTION_TIMEOUT_MS,
    ),
    maxIdleConnections: readCount(
      doc,
      'maxIdleConnections',
      prefix,
      ctx,
      DEFAULT_MAX_IDLE_CONNECTIONS,
    ),
    responseTimeoutMs: readDuration(
      doc,
      'responseTimeout',
      prefix,
      ctx,
      DEFAULT_RESPONSE_TIMEOUT_MS,
    ),
    services: [],
    limits: readLimits(doc.limits, `${prefix}limits`, ctx),
    rateLimit: readRateLimit(doc.rateLimit, `${prefix}rateLimit`, ctx),
    retries: readRetries(doc.retries, `${prefix}retries`, ctx),
  };
  const services = doc.services;
  if (!Array.isArray(services) || services.length === 0) {
    ctx.problem(`${prefix}services`, 'must list at least one service');
  } else {
    services.forEach((svc: unknown, i) => {
      const service = readService(svc, `${prefix}services[${i}]`, services.length > 1, ctx);
      if (service) backend.services.push(service);
    });
    checkDuplicateClusters(backend.services, `${prefix}services`, ctx);
  }
  const breaker = readCircuitBreaker(doc.circuitBreaker, `${prefix}circuitBreaker`, ctx);
  const failover = backend.services.some((svc) => (svc.failoverUrls?.length ?? 0) > 0);
  backend.circuitBreaker =
    breaker ??
    (failover
      ? { consecutiveFailures: DEFAULT_CIRCUIT_FAILURES, openForMs: DEFAULT_CIRCUIT_OPEN_MS }
      : undefined);
  return ctx.result.problems.length === before ? backend : undefined;
}

function readService(
  svc: unknown,
  path: string,
  several: boolean,
  ctx: Context,
): ServiceConfig | undefined {
  if (!isObject(svc)) {
    ctx.problem(path, 'must be a mapping with url');
    return undefined;
  }
  warnUnknownFields(
    svc,
    ['url', 'cluster', 'headers', 'tls', 'delegate', 'failoverUrls'],
    path,
    ctx,
  );
  const url = readUrl(svc.url, `${path}.url`, ctx);
  const cluster = readCluster(svc.cluster, `${path}.cluster`, ctx);
  if (several && svc.cluster === undefined) {
    ctx.problem(`${path}.cluster`, 'must be set when an extension has more than one service');
  }
  const headers = readHeaders(svc.headers, `${path}.headers`, ctx);
  const tls = readTls(svc.tls, `${path}.tls`, ctx);
  if (url && tls && url.protocol !== 'https:') {
    ctx.problem(`${path}.tls`, 'is only allowed with an https url');
  }
  const delegate = readDelegate(svc.delegate, `${path}.delegate`, tls !== undefined, ctx);
  const failoverUrls = readFailoverUrls(svc.failoverUrls, `${path}.failoverUrls`, url, ctx);
  if (failoverUrls && delegate !== undefined) {
    ctx.problem(`${path}.failoverUrls`, 'cannot be combined with delegate');
  }
  if (!url) return undefined;
  const service: ServiceConfig =
    delegate === undefined ? { url, cluster, headers, tls } : { url, cluster, headers, delegate };
  if (failoverUrls) service.failoverUrls = failoverUrls;
  return service;
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

function readUrl(value: unknown, path: string, ctx: Context): URL | undefined {
  if (typeof value !== 'string' || value === '') {
    ctx.problem(path, 'must be set');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.problem(path, 'is not a valid URL');
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.problem(path, 'must be an http or https URL');
    return undefined;
  }
  if (url.username || url.password) {
    // SECURITY: credentials in a ConfigMap URL would be readable by anyone who can read
    // argocd-cm; send them as a header from argocd-secret instead.
    ctx.problem(path, 'must not contain credentials; use a header with a $secret value');
    return undefined;
  }
  if (url.search || url.hash) {
    ctx.problem(path, 'must not have a query or fragment');
    return undefined;
  }
  return url;
}

/** An optional mapping field: undefined when absent, a problem when not a mapping. */
function readOptionalMapping(
  value: unknown,
  path: string,
  ctx: Context,
  expected: string,
  known: string[],
): Obj | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    ctx.problem(path, `must be ${expected}`);
    return undefined;
  }
  warnUnknownFields(value, known, path, ctx);
  return value;
}

function readCluster(raw: unknown, path: string, ctx: Context): ClusterConfig | undefined {
  const fields = ['name', 'server'];
  const value = readOptionalMapping(raw, path, ctx, 'a mapping with name and/or server', fields);
  if (!value) return undefined;
  const cluster: ClusterConfig = {};
  for (const field of ['name', 'server'] as const) {
    const v = value[field];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') ctx.problem(`${path}.${field}`, 'must be a string');
    else cluster[field] = v;
  }
  if (!cluster.name && !cluster.server) {
    ctx.problem(path, 'must set name or server');
    return undefined;
  }
  return cluster;
}

function readHeaders(value: unknown, path: string, ctx: Context): HeaderConfig[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    ctx.problem(path, 'must be a list of {name, value}');
    return [];
  }
  const headers: HeaderConfig[] = [];
  const seen = new Set<string>();
  value.forEach((h: unknown, i) => {
    const hPath = `${path}[${i}]`;
    if (!isObject(h)) {
      ctx.problem(hPath, 'must be a mapping with name and value');
      return;
    }
    warnUnknownFields(h, ['name', 'value'], hPath, ctx);
    const name = h.name;
    if (typeof name !== 'string' || name === '') {
      ctx.problem(`${hPath}.name`, 'must be set');
      return;
    }
    if (!HEADER_NAME.test(name)) {
      ctx.problem(`${hPath}.name`, `"${name}" is not a valid header name`);
      return;
    }
    if (isReservedHeaderName(name)) {
      // SECURITY: identity and hop-by-hop headers are set by the proxy alone; a configured
      // header must never be able to impersonate a user or smuggle a request.
      ctx.problem(`${hPath}.name`, `"${name}" is set by the proxy and cannot be configured`);
      return;
    }
    if (seen.has(name.toLowerCase())) {
      ctx.problem(`${hPath}.name`, `"${name}" is configured more than once`);
      return;
    }
    seen.add(name.toLowerCase());
    const resolved = resolveValue(h.value, `${hPath}.value`, ctx);
    if (resolved === undefined) return;
    // Sent as UTF-8 bytes, as Argo CD (Go) sends them; Node writes header strings as Latin-1.
    const wire = Buffer.from(resolved, 'utf8').toString('latin1');
    try {
      validateHeaderValue(name, wire);
    } catch {
      // The message names the character position only, never the (possibly secret) value.
      ctx.problem(`${hPath}.value`, 'must not contain control characters or line breaks');
      return;
    }
    headers.push({ name, value: wire });
  });
  return headers;
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

/**
 * A configured value: literal, or `$key` naming a key of argocd-secret (Argo CD's
 * settings.ReplaceStringSecret; the secret value is trimmed like there).
 */
function resolveValue(value: unknown, path: string, ctx: Context): string | undefined {
  if (typeof value !== 'string' || value === '') {
    ctx.problem(path, 'must be a non-empty string');
    return undefined;
  }
  if (!value.startsWith('$')) return value;
  const key = value.slice(1);
  const secret = ctx.secrets[key];
  if (secret === undefined) {
    // SECURITY: Argo CD would send "$key" literally; we refuse instead, so a typo never
    // leaks the reference name to a backend or silently drops authentication.
    ctx.missingSecret(path, `references argocd-secret key "${key}", which does not exist`);
    return undefined;
  }
  const trimmed = secret.trim();
  if (trimmed === '') {
    ctx.missingSecret(path, `references argocd-secret key "${key}", which is empty`);
    return undefined;
  }
  ctx.result.secretValues.add(trimmed);
  return trimmed;
}

function readDuration(
  doc: Obj,
  field: string,
  prefix: string,
  ctx: Context,
  fallback: number,
): number {
  const value = doc[field];
  if (value === undefined || value === null) return fallback;
  const ms = typeof value === 'string' ? parseGoDuration(value) : undefined;
  if (ms === undefined || ms < 0) {
    ctx.problem(`${prefix}${field}`, 'must be a duration like "2s", "500ms" or "1m30s"');
    return fallback;
  }
  if (ms > MAX_TIMER_MS) {
    // Node timers overflow past this and would fire after 1 ms instead.
    ctx.problem(`${prefix}${field}`, 'must be at most 596h (about 24 days)');
    return fallback;
  }
  // Argo CD treats 0 as "use the default" (applyProxyConfigDefaults).
  return ms === 0 ? fallback : ms;
}

function readCount(
  doc: Obj,
  field: string,
  prefix: string,
  ctx: Context,
  fallback: number,
): number {
  const value = doc[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    ctx.problem(`${prefix}${field}`, 'must be a whole number, 0 or more');
    return fallback;
  }
  return value === 0 ? fallback : value;
}

/** Two services that would answer the same destination (Argo CD's appendProxy duplicate check). */
function checkDuplicateClusters(services: ServiceConfig[], path: string, ctx: Context): void {
  if (services.length < 2) return;
  const seen = new Map<string, number>();
  services.forEach((svc, i) => {
    if (!svc.cluster) return;
    const keys: string[] = [];
    if (svc.cluster.name) keys.push(`name "${svc.cluster.name}"`);
    if (svc.cluster.server) keys.push(`server "${svc.cluster.server}"`);
    for (const key of keys) {
      const other = seen.get(key);
      if (other !== undefined) {
        ctx.problem(`${path}[${i}].cluster`, `has the same cluster ${key} as ${path}[${other}]`);
      } else seen.set(key, i);
    }
  });
}

function warnUnknownFields(doc: Obj, known: string[], path: string, ctx: Context): void {
  for (const field of Object.keys(doc)) {
    if (!known.includes(field)) {
      ctx.warn(path ? `${path}.${field}` : field, 'is not a known field and is ignored');
    }
  }
}

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
