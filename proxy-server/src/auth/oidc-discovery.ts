import http from 'http';
import https from 'https';
import { JSONWebKeySet } from 'jose';
import { OidcIssuerConfig } from './sso-settings';
import { rejectOnRequestError, retryOnStaleConnection } from '../util/stale-connection';

/**
 * Signature algorithms accepted for SSO ID tokens, when the issuer advertises them: the
 * asymmetric ones go-oidc supports. Never HS* (the "secret" would be public key material or
 * a client secret) and never `none`.
 */
export const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
]);

/** What verification needs from the issuer's discovery document. */
export interface ProviderMetadata {
  /** Where the keys are fetched from (already rewritten to `fetchBaseUrl`). */
  jwksUri: string;
  /** Allowed ID token algorithms. Default: `['RS256']` when none usable is advertised. */
  algorithms: string[];
}

/** Limits for every request to the issuer. */
export interface FetchLimits {
  /** Default: 5000 */
  timeoutMs: number;
  /** Default: 1 MiB */
  maxBytes: number;
}

export const DEFAULT_FETCH_LIMITS: FetchLimits = { timeoutMs: 5000, maxBytes: 1024 * 1024 };

/**
 * Fetches `<issuer>/.well-known/openid-configuration` and checks it is the issuer's own
 * (go-oidc NewProvider: the document's `issuer` must equal the configured one).
 */
export async function fetchProviderMetadata(
  config: OidcIssuerConfig,
  limits: FetchLimits,
): Promise<ProviderMetadata> {
  const url = `${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const document = await fetchJson(rewriteOrigin(url, config.fetchBaseUrl), config, limits);
  // SECURITY: whatever answers at fetchBaseUrl must be the configured issuer's provider.
  if (document.issuer !== config.issuer) {
    throw new Error('discovery document is for a different issuer');
  }
  if (typeof document.jwks_uri !== 'string' || document.jwks_uri === '') {
    throw new Error('discovery document has no jwks_uri');
  }
  const advertised = document.id_token_signing_alg_values_supported;
  const algorithms = Array.isArray(advertised)
    ? advertised.filter(
        (alg): alg is string => typeof alg === 'string' && ASYMMETRIC_ALGORITHMS.has(alg),
      )
    : [];
  return {
    jwksUri: rewriteOrigin(document.jwks_uri, config.fetchBaseUrl),
    // go-oidc's default when the provider advertises nothing it supports.
    algorithms: algorithms.length > 0 ? algorithms : ['RS256'],
  };
}

/** Fetches the issuer's JSON Web Key Set. */
export async function fetchJwks(
  jwksUri: string,
  config: OidcIssuerConfig,
  limits: FetchLimits,
): Promise<JSONWebKeySet> {
  const document = await fetchJson(jwksUri, config, limits);
  if (!Array.isArray(document.keys)) throw new Error('JWKS has no keys array');
  return document as unknown as JSONWebKeySet;
}

/**
 * Replaces scheme, host and port of `url` with those of `base`, keeping path and query:
 * what Argo CD's util/dex DexRewriteURLRoundTripper does to reach Dex in-cluster
 * (argocd-dex-server) while the issuer names the public URL.
 *
 * Example: `rewriteOrigin('https://cd.example.com/api/dex/keys', 'http://argocd-dex-server:5556')`
 * → `'http://argocd-dex-server:5556/api/dex/keys'`
 */
export function rewriteOrigin(url: string, base: string | undefined): string {
  if (base === undefined) return url;
  const target = new URL(url);
  const origin = new URL(base);
  target.protocol = origin.protocol;
  target.host = origin.host;
  return target.toString();
}

/**
 * One GET returning a JSON object: no redirects, bounded in time and size (each attempt), sent
 * again on a stale kept-alive connection (Node's global agents keep connections alive, and a
 * provider closes idle ones on its own clock; util/stale-connection.ts).
 */
function fetchJson(
  url: string,
  config: OidcIssuerConfig,
  limits: FetchLimits,
): Promise<Record<string, unknown>> {
  const target = new URL(url);
  if (target.protocol !== 'https:' && target.protocol !== 'http:') {
    return Promise.reject(new Error(`unsupported URL scheme ${target.protocol}`));
  }
  return retryOnStaleConnection(() => fetchJsonOnce(target, config, limits));
}

function fetchJsonOnce(
  target: URL,
  config: OidcIssuerConfig,
  limits: FetchLimits,
): Promise<Record<string, unknown>> {
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(
      target,
      {
        headers: { accept: 'application/json' },
        ca: config.rootCA,
        // SECURITY: only when argocd-cm says `oidc.tls.insecure.skip.verify: "true"`
        // (util/settings OIDCTLSConfig).
        rejectUnauthorized: config.insecureSkipVerify !== true,
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`GET ${target.pathname} returned ${res.statusCode}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limits.maxBytes) {
            req.destroy(
              new Error(`GET ${target.pathname}: response larger than ${limits.maxBytes} bytes`),
            );
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          try {
            const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            if (typeof body !== 'object' || body === null || Array.isArray(body)) {
              throw new Error('not a JSON object');
            }
            resolve(body as Record<string, unknown>);
          } catch (err) {
            reject(new Error(`GET ${target.pathname}: invalid JSON`, { cause: err }));
          }
        });
        res.on('error', reject);
      },
    );
    const deadline = setTimeout(
      () => req.destroy(new Error(`GET ${target.pathname} timed out after ${limits.timeoutMs}ms`)),
      limits.timeoutMs,
    );
    req.on('close', () => clearTimeout(deadline));
    rejectOnRequestError(req, reject);
  });
}
