import { tokenKey } from '../auth/token-key';
import http from 'http';
import https from 'https';
import { readFileSync } from 'fs';
import { AuthenticationError, NotAllowedError, ServiceUnavailableError } from '../errors';
import { BoundedCache } from '../util/bounded-cache';
import { rejectOnRequestError, retryOnStaleConnection } from '../util/stale-connection';

/** The fields of an Argo CD Application the proxy uses. */
export interface Application {
  name: string;
  namespace: string;
  project: string;
  destination: { name?: string; server?: string };
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

export interface ArgoCDApiOptions {
  /** Argo CD API base URL. Default: `https://localhost:8080` (argocd-server in the same pod). */
  baseUrl: string;
  /** PEM CA bundle that signs argocd-server's certificate (the mounted argocd-server-tls). */
  caFile?: string;
  /**
   * Skip certificate verification. Only allowed for a loopback URL, where the only peer is
   * argocd-server in the same pod. Default: false.
   */
  insecureSkipVerify?: boolean;
  /** Per-call timeout in ms. Default: 10000. */
  timeoutMs?: number;
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

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Checks an application against the Argo CD API with the caller's own token
 * (`GET /api/v1/applications/{name}?appNamespace={ns}`), so Argo CD itself decides whether
 * the caller may read it, exactly as for the UI. Answers are cached briefly per token and
 * application; concurrent misses for the same key share one call.
 */
export class ArgoCDApplicationClient implements ApplicationLookup {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly client: typeof http | typeof https;
  private readonly timeoutMs: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly cache: BoundedCache<Outcome>;
  private readonly inflight = new Map<string, Promise<Outcome>>();

  constructor(private readonly options: ArgoCDApiOptions) {
    this.base = new URL(options.baseUrl);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') {
      throw new Error(`--argocd-server must be an http or https URL, got ${options.baseUrl}`);
    }
    if (options.insecureSkipVerify && !LOOPBACK_HOSTS.has(this.base.hostname)) {
      // SECURITY: skipping verification toward a remote host would let anyone on the path
      // collect every user's session token.
      throw new Error('--argocd-server-insecure is only allowed for a loopback --argocd-server');
    }
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.ttlMs = options.cacheTtlMs ?? 5_000;
    if (!(this.ttlMs >= 0 && this.ttlMs <= MAX_APPLICATION_CACHE_TTL_MS)) {
      throw new Error(
        `--application-cache-ttl must be between 0s and ${MAX_APPLICATION_CACHE_TTL_MS / 1000}s: ` +
          'it bounds how long a session Argo CD refuses (logout, disabled account) keeps working',
      );
    }
    this.now = options.now ?? Date.now;
    this.cache = new BoundedCache(options.cacheSize ?? 10_000, this.now);
    const agentOptions = { keepAlive: true, maxSockets: 64, maxFreeSockets: 16 };
    if (this.base.protocol === 'https:') {
      this.client = https;
      this.agent = new https.Agent({
        ...agentOptions,
        ca: options.caFile ? readFileSync(options.caFile) : undefined,
        rejectUnauthorized: !options.insecureSkipVerify,
      });
    } else {
      this.client = http;
      this.agent = new http.Agent(agentOptions);
    }
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
    this.agent.destroy();
  }

  private async fetchApplication(
    key: string,
    token: string,
    namespace: string,
    name: string,
  ): Promise<Outcome> {
    const path =
      `${this.base.pathname.replace(/\/$/, '')}/api/v1/applications/${encodeURIComponent(name)}` +
      `?appNamespace=${encodeURIComponent(namespace)}`;
    let response: { status: number; body: string };
    try {
      response = await this.get(path, token);
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

  /** One GET, sent again on a stale kept-alive connection (util/stale-connection.ts). */
  private get(path: string, token: string): Promise<{ status: number; body: string }> {
    return retryOnStaleConnection(() => this.getOnce(path, token));
  }

  private getOnce(path: string, token: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = this.client.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname.replace(/^\[|\]$/g, ''),
          port: this.base.port,
          path,
          method: 'GET',
          agent: this.agent,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            // An Application can be large (status, history), but not unbounded.
            if (size > 16 * 1024 * 1024) req.destroy(new Error('response too large'));
            else chunks.push(chunk);
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      rejectOnRequestError(req, reject);
      req.end();
    });
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
    spec?: { project?: unknown; destination?: { name?: unknown; server?: unknown } };
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
    },
  };
}
