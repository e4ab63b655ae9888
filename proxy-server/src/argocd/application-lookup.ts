import { tokenKey } from '../auth/token-key';
import { AuthenticationError, NotAllowedError, ServiceUnavailableError } from '../errors';
import { BoundedCache } from '../util/bounded-cache';
import { ArgoCDApi, ArgoCDConnectionOptions } from './argocd-api';

/** The fields of an Argo CD Application the proxy uses. */
export interface Application {
  name: string;
  namespace: string;
  project: string;
  /** `spec.destination`: the cluster by name or server, and the namespace (may be absent). */
  destination: { name?: string; server?: string; namespace?: string };
}

/** Step 5 of the request path: is this application real and readable by this caller? */
export interface ApplicationLookup {
  /** Resolves the application as the caller sees it, or throws a ProxyError. */
  /** `key`: the token's {@link tokenKey}, when the caller already has it. */
  getApplication(
    token: string,
    namespace: string,
    name: string,
    key?: string,
  ): Promise<Application>;
  /** A cached answer without waiting (see ArgoCDApplicationClient.lookupCached). */
  lookupCached?(tokenHash: string, namespace: string, name: string): Application | undefined;
}

export interface ArgoCDApiOptions extends ArgoCDConnectionOptions {
  /**
   * How long an answer (allowed or denied) is reused, in ms. Default: 5000; at most
   * {@link MAX_APPLICATION_CACHE_TTL_MS}.
   */
  cacheTtlMs?: number;
  /** Cache entries at most. Default: 10000. */
  cacheSize?: number;
  now?: () => number;
  /** Called on every cache lookup, for metrics. */
  onCacheResult?: (hit: boolean) => void;
}

type Outcome = { ok: true; app: Application } | { ok: false; error: Error };

/** One cache entry per token (by its hash) and application. */
function cacheKey(tokenHash: string, namespace: string, name: string): string {
  return `${tokenHash}\0${namespace}\0${name}`;
}

/**
 * The longest an application answer may be reused. Argo CD checks a session on every request
 * (a logged-out token, a disabled account, a password changed after the token was issued);
 * the sidecar learns of it from the next application check, so this TTL bounds how long a
 * token that Argo CD has started to refuse keeps working here.
 */
export const MAX_APPLICATION_CACHE_TTL_MS = 60_000;

/**
 * Throws unless `ms` is within 0 and {@link MAX_APPLICATION_CACHE_TTL_MS}: every cache that
 * answers for Argo CD in its place (applications, projects and clusters) stays within it.
 */
export function checkCacheTtl(ms: number, name: string, why = ''): void {
  if (!(ms >= 0 && ms <= MAX_APPLICATION_CACHE_TTL_MS)) {
    throw new Error(
      `${name} must be between 0s and ${MAX_APPLICATION_CACHE_TTL_MS / 1000}s${why ? `: ${why}` : ''}`,
    );
  }
}

/**
 * Checks an application against the Argo CD API with the caller's own token
 * (`GET /api/v1/applications/{name}?appNamespace={ns}`), so Argo CD itself decides whether
 * the caller may read it, exactly as for the UI. Answers are cached briefly per token and
 * application; concurrent misses for the same key share one call.
 */
export class ArgoCDApplicationClient implements ApplicationLookup {
  /** The connection to Argo CD, shared with the destination check. */
  readonly api: ArgoCDApi;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly cache: BoundedCache<Outcome>;
  private readonly inflight = new Map<string, Promise<Outcome>>();

  constructor(private readonly options: ArgoCDApiOptions) {
    this.api = new ArgoCDApi(options);
    this.ttlMs = options.cacheTtlMs ?? 5_000;
    checkCacheTtl(
      this.ttlMs,
      '--application-cache-ttl',
      'it bounds how long a session Argo CD refuses (logout, disabled account) keeps working',
    );
    this.now = options.now ?? Date.now;
    this.cache = new BoundedCache(options.cacheSize ?? 10_000, this.now);
  }

  /**
   * Sync fast path: Argo CD's cached answer for this token and application, if any — the
   * application, or the error it answered with (thrown). Undefined on a miss; the caller
   * then awaits {@link getApplication}.
   */
  lookupCached(tokenHash: string, namespace: string, name: string): Application | undefined {
    const outcome = this.cache.get(cacheKey(tokenHash, namespace, name));
    if (!outcome) return undefined;
    this.options.onCacheResult?.(true);
    if (!outcome.ok) throw outcome.error;
    return outcome.app;
  }

  async getApplication(
    token: string,
    namespace: string,
    name: string,
    tokenHash = tokenKey(token),
  ): Promise<Application> {
    const key = cacheKey(tokenHash, namespace, name);
    let outcome = this.cache.get(key);
    this.options.onCacheResult?.(outcome !== undefined);
    if (!outcome) {
      let pending = this.inflight.get(key);
      if (!pending) {
        pending = this.fetchApplication(key, token, namespace, name).finally(() =>
          this.inflight.delete(key),
        );
        this.inflight.set(key, pending);
      }
      outcome = await pending;
    }
    if (!outcome.ok) throw outcome.error;
    return outcome.app;
  }

  /** Drops every cached answer (on config reload). */
  clearCache(): void {
    this.cache.clear();
  }

  close(): void {
    this.api.close();
  }

  private async fetchApplication(
    key: string,
    token: string,
    namespace: string,
    name: string,
  ): Promise<Outcome> {
    const path =
      `/api/v1/applications/${encodeURIComponent(name)}` +
      `?appNamespace=${encodeURIComponent(namespace)}`;
    let response: { status: number; body: string };
    try {
      response = await this.api.get(path, token);
    } catch (err) {
      // Not cached: the next request tries again.
      return {
        ok: false,
        error: new ServiceUnavailableError('Argo CD API is unreachable; try again shortly', {
          cause: err,
        }),
      };
    }
    const outcome = interpretResponse(response, namespace, name);
    if (response.status === 200 || response.status === 403 || response.status === 404) {
      this.cache.set(key, outcome, this.now() + this.ttlMs);
    }
    return outcome;
  }
}

function interpretResponse(
  response: { status: number; body: string },
  namespace: string,
  name: string,
): Outcome {
  const ref = `${namespace}/${name}`;
  switch (response.status) {
    case 200: {
      const app = parseApplication(response.body);
      if (!app) {
        return {
          ok: false,
          error: new ServiceUnavailableError('Argo CD API returned an unreadable application'),
        };
      }
      return { ok: true, app };
    }
    case 401:
      return {
        ok: false,
        error: new AuthenticationError('Argo CD rejected the session; log in again'),
      };
    case 403:
    case 404:
      // Argo CD answers 403 "permission denied" both for a missing application and for one
      // the caller may not read, so existence is not disclosed; neither do we.
      return {
        ok: false,
        error: new NotAllowedError(`application ${ref} does not exist or you may not read it`),
      };
    default:
      return {
        ok: false,
        error: new ServiceUnavailableError(
          `Argo CD API answered ${response.status}; try again shortly`,
        ),
      };
  }
}

function parseApplication(body: string): Application | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return undefined;
  }
  const root = doc as {
    metadata?: { name?: unknown; namespace?: unknown };
    spec?: {
      project?: unknown;
      destination?: { name?: unknown; server?: unknown; namespace?: unknown };
    };
  };
  const name = root?.metadata?.name;
  const namespace = root?.metadata?.namespace;
  if (typeof name !== 'string' || typeof namespace !== 'string') return undefined;
  const project = root.spec?.project;
  const dest = root.spec?.destination ?? {};
  return {
    name,
    namespace,
    // Argo CD's Spec.GetProject(): an empty project means "default".
    project: typeof project === 'string' && project !== '' ? project : 'default',
    destination: {
      name: typeof dest.name === 'string' && dest.name !== '' ? dest.name : undefined,
      server: typeof dest.server === 'string' && dest.server !== '' ? dest.server : undefined,
      // The project's destinations are matched against it (an absent namespace is "").
      namespace:
        typeof dest.namespace === 'string' && dest.namespace !== '' ? dest.namespace : undefined,
    },
  };
}
