import { decodeJwt } from 'jose';
import { AuthenticationError } from '../errors';
import { Logger, NOOP_LOGGER } from '../logger';
import { Identity } from './identity';
import { LOCAL_ISSUER, verifyLocalToken } from './local-token-verifier';
import { OidcTokenVerifier } from './oidc-token-verifier';
import { OidcIssuerConfig } from './sso-settings';
import { MAX_SESSION_TOKEN_LENGTH } from './token-extraction';
import { toAuthenticationError } from './verification-errors';
import { DEFAULT_TOKEN_CACHE_LIMITS, VerifiedTokenCache } from './verified-token-cache';

/** What authentication needs from Argo CD's configuration. */
export interface AuthSettings {
  /** Raw bytes of argocd-secret `server.secretkey` (signs local sessions; untrimmed). */
  secretKey: Buffer;
  /** The SSO issuer, when argocd-cm configures one (see `resolveSsoIssuer`). */
  sso?: OidcIssuerConfig;
  /** argocd-rbac-cm `scopes`: the claims that carry groups. Default: `['groups']` */
  scopes: string[];
}

export interface SessionAuthenticatorOptions {
  /** Default: no logging */
  logger?: Logger;
  /** Clock in ms since the epoch. Default: `Date.now` */
  now?: () => number;
  /** Most verified tokens cached; 0 turns the cache off. Default: 10000 */
  cacheSize?: number;
  /** Memory budget of the cache, approximately. Default: 16 MiB */
  cacheBytes?: number;
  /** Least time between SSO key refreshes caused by an unknown key. Default: 10000 */
  keyRefreshCooldownMs?: number;
}

/**
 * Verifies Argo CD session tokens and maps them to an Identity.
 *
 * The verifier is chosen by the token's unverified `iss`, like util/session VerifyToken:
 * `argocd` → local token (HS256, server.secretkey); the configured SSO issuer → OIDC
 * verification against that issuer's keys; anything else is rejected.
 *
 * SECURITY: the unverified `iss` only picks the verifier (as in util/session/sessionmanager.go). Each verifier then enforces its
 * own issuer, algorithms and key, so lying about `iss` only changes which check fails.
 *
 * Verified tokens are cached by SHA-256 until min(`exp`, now + 5 minutes), bounded in
 * entries and bytes; failures are never cached. Concurrent verifications of one token
 * share the work.
 */
export class SessionAuthenticator {
  private readonly secretKey: Uint8Array;
  private readonly sso?: OidcTokenVerifier;
  private readonly cache: VerifiedTokenCache;
  private readonly inflight = new Map<string, Promise<Identity>>();
  private readonly now: () => number;

  constructor(settings: AuthSettings, options: SessionAuthenticatorOptions = {}) {
    this.now = options.now ?? Date.now;
    this.secretKey = new Uint8Array(settings.secretKey);
    this.cache = new VerifiedTokenCache(
      {
        ...DEFAULT_TOKEN_CACHE_LIMITS,
        maxEntries: options.cacheSize ?? DEFAULT_TOKEN_CACHE_LIMITS.maxEntries,
        maxBytes: options.cacheBytes ?? DEFAULT_TOKEN_CACHE_LIMITS.maxBytes,
      },
      this.now,
    );
    if (settings.sso) {
      this.sso = new OidcTokenVerifier(settings.sso, {
        logger: options.logger ?? NOOP_LOGGER,
        now: this.now,
        scopes: settings.scopes,
        refreshCooldownMs: options.keyRefreshCooldownMs,
      });
    }
  }

  /**
   * Verifies the token and maps it to an Identity. Throws AuthenticationError with a short
   * client-safe message (never the token, never the secret).
   */
  authenticate(token: string, key = VerifiedTokenCache.keyOf(token)): Promise<Identity> {
    if (token.length > MAX_SESSION_TOKEN_LENGTH) {
      return Promise.reject(new AuthenticationError('session token too large'));
    }
    const cached = this.cache.get(key);
    if (cached) return Promise.resolve(cached);
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.verify(token)
        .then((identity) => {
          this.cache.set(key, identity);
          return identity;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** Sync fast path: the Identity if this exact token was verified before and is still valid. */
  lookupCached(token: string, key = VerifiedTokenCache.keyOf(token)): Identity | undefined {
    if (token.length > MAX_SESSION_TOKEN_LENGTH) return undefined;
    return this.cache.get(key);
  }

  private async verify(token: string): Promise<Identity> {
    try {
      const issuer = readUnverifiedIssuer(token);
      if (issuer === LOCAL_ISSUER) {
        if (this.secretKey.length === 0)
          throw new AuthenticationError('local sessions are not configured');
        return await verifyLocalToken(token, this.secretKey, this.now());
      }
      if (this.sso && issuer === this.sso.config.issuer) return await this.sso.verify(token);
      throw new AuthenticationError(
        this.sso ? 'unknown token issuer' : 'unknown token issuer: SSO is not configured',
      );
    } catch (err) {
      throw toAuthenticationError(err);
    }
  }
}

/** The `iss` claim, unverified: only used to pick the verifier. */
function readUnverifiedIssuer(token: string): string {
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(token);
  } catch (err) {
    throw new AuthenticationError('malformed token', { cause: err });
  }
  if (typeof claims.iss !== 'string') throw new AuthenticationError('token has no issuer');
  return claims.iss;
}
