import { decodeJwt } from 'jose';
import { AuthenticationError } from '../errors';
import { Logger, NOOP_LOGGER } from '../logger';
import {
  ArgoCDSessionApi,
  argoCDReplacesGroups,
  EFFECTIVE_GROUPS_MAX_AGE_MS,
  fetchEffectiveGroups,
} from './effective-groups';
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
  /**
   * Asks Argo CD for a session's groups when Argo CD replaces the token's (see
   * auth/effective-groups.ts). Default: none; such tokens are then refused (503).
   */
  argocdApi?: ArgoCDSessionApi;
}

/** A verified token's Identity, and how long it may be reused (default: the cache's). */
interface Verified {
  identity: Identity;
  maxAgeMs?: number;
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
 * SSO groups are Argo CD's: when Argo CD replaces a token's `groups` with the identity
 * provider's answer (oidc.config `enableUserInfoGroups`, Azure groups overage), the groups
 * come from Argo CD's `/api/v1/session/userinfo` for that token, and the token is refused
 * when Argo CD refuses it or cannot be asked (auth/effective-groups.ts). Other tokens
 * (local, Dex, oidc.config without either option) use their own claims and never wait on
 * Argo CD here.
 *
 * Verified tokens are cached by SHA-256 until min(`exp`, now + 5 minutes), and those with
 * groups from Argo CD until min(`exp`, now + EFFECTIVE_GROUPS_MAX_AGE_MS), bounded in
 * entries and bytes; a cached Identity, effective groups included, is answered
 * synchronously by `lookupCached`. Failures are never cached. Concurrent verifications of
 * one token share the work, the call to Argo CD included.
 */
export class SessionAuthenticator {
  private readonly secretKey: Uint8Array;
  private readonly sso?: OidcTokenVerifier;
  private readonly cache: VerifiedTokenCache;
  private readonly inflight = new Map<string, Promise<Identity>>();
  private readonly now: () => number;
  private readonly argocdApi?: ArgoCDSessionApi;

  constructor(settings: AuthSettings, options: SessionAuthenticatorOptions = {}) {
    this.now = options.now ?? Date.now;
    this.argocdApi = options.argocdApi;
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
        .then(({ identity, maxAgeMs }) => {
          this.cache.set(key, identity, maxAgeMs);
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

  private async verify(token: string): Promise<Verified> {
    try {
      const issuer = readUnverifiedIssuer(token);
      if (issuer === LOCAL_ISSUER) {
        if (this.secretKey.length === 0)
          throw new AuthenticationError('local sessions are not configured');
        return { identity: await verifyLocalToken(token, this.secretKey, this.now()) };
      }
      if (this.sso && issuer === this.sso.config.issuer)
        return await this.verifySso(this.sso, token);
      throw new AuthenticationError(
        this.sso ? 'unknown token issuer' : 'unknown token issuer: SSO is not configured',
      );
    } catch (err) {
      throw toAuthenticationError(err);
    }
  }

  /**
   * An SSO token, with Argo CD's groups when Argo CD replaces the token's (asked only after
   * the token verified, so an invalid token never reaches Argo CD from here).
   */
  private async verifySso(sso: OidcTokenVerifier, token: string): Promise<Verified> {
    const claims = await sso.verifyClaims(token);
    const identity = sso.toIdentity(claims);
    if (!argoCDReplacesGroups(sso.config.groupsReplacement, claims)) return { identity };
    const groups = await fetchEffectiveGroups(this.argocdApi, token);
    return { identity: { ...identity, groups }, maxAgeMs: EFFECTIVE_GROUPS_MAX_AGE_MS };
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
