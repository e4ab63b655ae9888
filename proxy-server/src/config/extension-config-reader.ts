/**
 * How `extension.config` is read: the problem collector and the value readers that Argo CD's
 * schema (extension-config.ts) and the sidecar-only sections (extension-config-sidecar.ts)
 * both use. Every problem carries its argocd-cm key and dotted path.
 */
import { parseGoDuration } from './duration';
import { ExtensionConfig } from './types';

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

export type Obj = Record<string, unknown>;

/** The longest delay a Node timer can hold (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

/** Collects problems for one argocd-cm key, each prefixed with the key and a path. */
export class Context {
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

/** A service URL: http or https, without credentials, query or fragment. */
export function readUrl(value: unknown, path: string, ctx: Context): URL | undefined {
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
export function readOptionalMapping(
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

/**
 * A configured value: literal, or `$key` naming a key of argocd-secret (Argo CD's
 * settings.ReplaceStringSecret; the secret value is trimmed like there).
 */
export function resolveValue(value: unknown, path: string, ctx: Context): string | undefined {
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

/** A Go duration string (Argo CD's fields are time.Duration), as a Node timer can hold it. */
export function readDuration(
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

/** Unknown fields are ignored, as Argo CD's YAML decoding ignores them, with a warning each. */
export function warnUnknownFields(doc: Obj, known: string[], path: string, ctx: Context): void {
  for (const field of Object.keys(doc)) {
    if (!known.includes(field)) {
      ctx.warn(path ? `${path}.${field}` : field, 'is not a known field and is ignored');
    }
  }
}

export function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
