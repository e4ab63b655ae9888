/**
 * Reads Argo CD's `extension.config` keys of argocd-cm. This file is Argo CD's own schema,
 * mirrored from server/extension/extension.go: ExtensionConfigs (`extensions`),
 * ExtensionConfig (`name`, `backend`), BackendConfig (ProxyConfig's `connectionTimeout`,
 * `keepAlive`, `idleConnectionTimeout`, `maxIdleConnections`, and `services`), ServiceConfig
 * (`url`, `cluster`, `headers`), ClusterConfig (`name`, `server`) and Header (`name`,
 * `value`, `$key` references), with its defaults and checks (the upstream function each
 * mirrors is named where it applies). The sections this sidecar adds are read in
 * extension-config-sidecar.ts; the readers both use, in extension-config-reader.ts.
 */
import { validateHeaderValue } from 'http';
import YAML from 'yaml';
import {
  BackendConfig,
  ClusterConfig,
  DEFAULT_CONNECTION_TIMEOUT_MS,
  DEFAULT_IDLE_CONNECTION_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_MS,
  DEFAULT_MAX_IDLE_CONNECTIONS,
  HeaderConfig,
  ServiceConfig,
} from './types';
import { isReservedHeaderName } from '../proxy/header-names';
import {
  Context,
  isObject,
  Obj,
  ParsedExtensions,
  readDuration,
  readOptionalMapping,
  readUrl,
  resolveValue,
  warnUnknownFields,
} from './extension-config-reader';
import {
  readBackendCircuitBreaker,
  readRequestsWithoutApplication,
  readSidecarBackendFields,
  readSidecarServiceFields,
  SIDECAR_BACKEND_FIELDS,
  SIDECAR_SERVICE_FIELDS,
} from './extension-config-sidecar';

/** argocd-cm key holding `extensions: [{name, backend}]`. */
export const EXTENSION_CONFIG_KEY = 'extension.config';

/** Same pattern as Argo CD's validateConfigs (server/extension/extension.go). */
const EXTENSION_NAME = /^[A-Za-z0-9-_]+$/;
/** RFC 9110 token: what a header field name may contain. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

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
  'services',
  ...SIDECAR_BACKEND_FIELDS,
];

const SERVICE_FIELDS = ['url', 'cluster', 'headers', ...SIDECAR_SERVICE_FIELDS];

function readBackend(doc: Obj, prefix: string, ctx: Context): BackendConfig | undefined {
  warnUnknownFields(doc, BACKEND_FIELDS, prefix.replace(/\.$/, ''), ctx);
  const before = ctx.result.problems.length;
  // Argo CD's ProxyConfig.
  const proxy = {
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
  };
  // This sidecar's own sections, read in the order their problems are reported.
  const sidecar = readSidecarBackendFields(doc, prefix, ctx);
  const backend: BackendConfig = {
    ...proxy,
    responseTimeoutMs: sidecar.responseTimeoutMs,
    services: [],
    limits: sidecar.limits,
    rateLimit: sidecar.rateLimit,
    retries: sidecar.retries,
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
  backend.circuitBreaker = readBackendCircuitBreaker(doc, prefix, backend.services, ctx);
  if (readRequestsWithoutApplication(doc, prefix, backend.services, ctx)) {
    backend.allowRequestsWithoutApplication = true;
  }
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
  warnUnknownFields(svc, SERVICE_FIELDS, path, ctx);
  const url = readUrl(svc.url, `${path}.url`, ctx);
  const cluster = readCluster(svc.cluster, `${path}.cluster`, ctx);
  if (several && svc.cluster === undefined) {
    ctx.problem(`${path}.cluster`, 'must be set when an extension has more than one service');
  }
  const headers = readHeaders(svc.headers, `${path}.headers`, ctx);
  const sidecar = readSidecarServiceFields(svc, path, url, ctx);
  if (!url) return undefined;
  return { url, cluster, headers, ...sidecar };
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
