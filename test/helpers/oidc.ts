import { ChildProcess, spawn } from 'child_process';
import http from 'http';
import { join } from 'path';
import { createInterface } from 'readline';
import { REPO_ROOT } from './sidecar-process';

// From the source tree: tsc does not copy .mjs files into dist/ (the bench runs from there).
const SERVER_SCRIPT = join(REPO_ROOT, 'test', 'helpers', 'oidc-provider-server.mjs');

/** A client registered at the provider: an ID token's default audience. */
export interface OidcClient {
  client_id: string;
  /** Default: RS256 */
  id_token_signed_response_alg?: string;
}

export interface OidcProviderOptions {
  /** Path the provider is mounted at, part of the issuer. Default: '' Example: `/api/dex` */
  mountPath?: string;
  /**
   * Public origin named by the issuer and the discovery document when it differs from the
   * address the provider listens on (like Dex behind argocd-server: fetch through
   * `url`, verify against `issuer`). Default: the listening address. Example: `https://argocd.example.test`
   */
  issuerOrigin?: string;
  /** Default: `[{ client_id: 'argo-cd' }]` (the first one is the default audience) */
  clients?: OidcClient[];
  /** Signing keys to generate, one per algorithm. Default: `['RS256']` */
  keyAlgs?: Array<'RS256' | 'PS256' | 'ES256'>;
  /** What discovery advertises in id_token_signing_alg_values_supported. Default: oidc-provider's */
  idTokenAlgs?: string[];
}

export interface IssueOptions {
  /**
   * A registered client's id: the provider's own IdToken code issues the token. A list, an
   * unregistered id, or null (no `aud` at all): signed with the provider's current key (same
   * kid) directly. Default: the first client.
   */
  audience?: string | string[] | null;
  /** Sign with the provider's key for this algorithm (implies direct signing). */
  alg?: string;
}

/** A real oidc-provider in a child process, on an ephemeral loopback port. */
export interface OidcProvider {
  /** The issuer (`iss` of its tokens). Example: `http://127.0.0.1:41234/api/dex` */
  issuer: string;
  /** Where it actually listens (origin only). Example: `http://127.0.0.1:41234` */
  url: string;
  /**
   * An ID token with these claims: `sub` defaults to `test-user`, `exp` is honoured, and a
   * claim set to null is left out (`{ exp: null }` makes a token without exp).
   */
  issueIdToken(claims?: Record<string, unknown>, options?: IssueOptions): Promise<string>;
  /** New signing keys; `keepOld` keeps publishing (not signing with) the previous ones. */
  rotateKeys(options?: { keepOld?: boolean }): Promise<void>;
  /** When false, every provider path answers 503 (the control endpoints keep working). */
  setAvailable(available: boolean): Promise<void>;
  /** How often discovery and JWKS were fetched. */
  fetchCounts(): Promise<{ discovery: number; jwks: number }>;
  /** The published JWKS (public keys), fetched from the provider itself. */
  publicJwks(): Promise<{ keys: Array<Record<string, unknown>> }>;
  stop(): Promise<void>;
}

/**
 * Starts panva/oidc-provider (ESM-only, so it runs in its own Node process from
 * oidc-provider-server.mjs) and resolves once it listens. Tokens come from the provider
 * itself and verify against its real discovery document and JWKS.
 *
 * Example:
 * ```ts
 * const op = await startOidcProvider({ mountPath: '/api/dex', clients: [{ client_id: 'argo-cd' }] });
 * const token = await op.issueIdToken({ sub: 'alice', email: 'alice@example.com', groups: ['dev'] });
 * await op.stop();
 * ```
 */
export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<OidcProvider> {
  const child = spawn(process.execPath, [SERVER_SCRIPT, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const { url, issuer } = await new Promise<{ url: string; issuer: string }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { event?: string; url: string; issuer: string };
        if (entry.event === 'listening') resolve(entry);
      } catch {
        // not ours
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`oidc provider exited (${code}) before listening:\n${stderr.join('\n')}`)),
    );
  });

  const control = async <T>(path: string, body: unknown = {}): Promise<T> =>
    JSON.parse(await post(`${url}/__test__/${path}`, JSON.stringify(body))) as T;

  return {
    issuer,
    url,
    async issueIdToken(claims = {}, issue = {}) {
      return (await control<{ token: string }>('id-token', { claims, ...issue })).token;
    },
    async rotateKeys(rotate = {}) {
      await control('rotate-keys', rotate);
    },
    async setAvailable(available) {
      await control('availability', { available });
    },
    fetchCounts: () => control('stats'),
    async publicJwks() {
      const discovery = JSON.parse(
        await get(`${url}${options.mountPath ?? ''}/.well-known/openid-configuration`),
      ) as { jwks_uri: string };
      const jwksPath = new URL(discovery.jwks_uri).pathname;
      return JSON.parse(await get(`${url}${jwksPath}`)) as { keys: Array<Record<string, unknown>> };
    },
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function get(url: string): Promise<string> {
  return send(url, 'GET');
}

function post(url: string, body: string): Promise<string> {
  return send(url, 'POST', body);
}

function send(url: string, method: string, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200)
          reject(new Error(`${method} ${url}: ${res.statusCode} ${text}`));
        else resolve(text);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
