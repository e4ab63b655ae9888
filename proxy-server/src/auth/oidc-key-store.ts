import { createLocalJWKSet, JWTVerifyGetKey } from 'jose';
import { ServiceUnavailableError, describeError } from '../errors';
import { Logger } from '../logger';
import {
  DEFAULT_FETCH_LIMITS,
  fetchJwks,
  fetchProviderMetadata,
  FetchLimits,
} from './oidc-discovery';
import { OidcIssuerConfig } from './sso-settings';

/** The issuer's keys and ID token algorithms, as of one fetch. */
export interface KeySet {
  getKey: JWTVerifyGetKey;
  algorithms: string[];
  fetchedAt: number;
}

export interface KeyStoreOptions {
  logger: Logger;
  now: () => number;
  /**
   * Least time between two refreshes, so that tokens with made-up key ids cannot turn into
   * a flood of requests to the issuer. Default: 10000
   */
  refreshCooldownMs?: number;
  /** Keys older than this are refreshed before use (kept while the issuer is unreachable). Default: 10 minutes */
  maxKeyAgeMs?: number;
  /** Least time between two attempts while no keys could be loaded at all. Default: 1000 */
  failureRetryMs?: number;
  fetchLimits?: FetchLimits;
}

/**
 * The cached discovery + JWKS of one issuer. Loads lazily; concurrent callers share one
 * fetch; refreshes when keys are old or a token names a key we do not have, at most once
 * per cooldown. Argo CD (util/oidc verify) re-initializes its provider on a signature
 * failure in the same way, without the cooldown.
 */
export class OidcKeyStore {
  private keys?: KeySet;
  private loading?: Promise<KeySet>;
  private lastAttemptAt = -Infinity;
  private lastError?: unknown;
  private readonly refreshCooldownMs: number;
  private readonly maxKeyAgeMs: number;
  private readonly failureRetryMs: number;
  private readonly fetchLimits: FetchLimits;

  constructor(
    private readonly config: OidcIssuerConfig,
    private readonly options: KeyStoreOptions,
  ) {
    this.refreshCooldownMs = options.refreshCooldownMs ?? 10_000;
    this.maxKeyAgeMs = options.maxKeyAgeMs ?? 10 * 60 * 1000;
    this.failureRetryMs = options.failureRetryMs ?? 1000;
    this.fetchLimits = options.fetchLimits ?? DEFAULT_FETCH_LIMITS;
  }

  /** Keys to verify with: loaded if there are none, refreshed if old (old ones if that fails). */
  async current(): Promise<KeySet> {
    const keys = this.keys;
    if (this.loading) return this.loading.catch((err: unknown) => keys ?? throwUnavailable(err));
    if (keys) {
      const fresh = this.options.now() - keys.fetchedAt < this.maxKeyAgeMs;
      if (fresh || !this.mayAttempt(this.refreshCooldownMs)) return keys;
      return this.load().catch(() => keys);
    }
    if (!this.mayAttempt(this.failureRetryMs)) throwUnavailable(this.lastError);
    return this.load().catch(throwUnavailable);
  }

  /**
   * Newer keys after a token did not match `used`, or undefined while the cooldown holds.
   * Throws the 'unavailable' error when the issuer cannot be reached.
   */
  async refreshAfterMismatch(used: KeySet): Promise<KeySet | undefined> {
    if (this.keys && this.keys !== used) return this.keys;
    if (!this.loading && !this.mayAttempt(this.refreshCooldownMs)) return undefined;
    return this.load().catch(throwUnavailable);
  }

  private mayAttempt(intervalMs: number): boolean {
    return this.options.now() - this.lastAttemptAt >= intervalMs;
  }

  private load(): Promise<KeySet> {
    if (this.loading) return this.loading;
    this.lastAttemptAt = this.options.now();
    const { logger } = this.options;
    const issuer = this.config.issuer;
    this.loading = this.fetchKeySet()
      .then(
        (keys) => {
          this.keys = keys;
          this.lastError = undefined;
          logger.info('sso keys loaded', { issuer, algorithms: keys.algorithms });
          return keys;
        },
        (err: unknown) => {
          this.lastError = err;
          logger.warn('sso keys could not be loaded', { issuer, error: describeError(err) });
          throw err;
        },
      )
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  private async fetchKeySet(): Promise<KeySet> {
    const metadata = await fetchProviderMetadata(this.config, this.fetchLimits);
    const jwks = await fetchJwks(metadata.jwksUri, this.config, this.fetchLimits);
    return {
      getKey: createLocalJWKSet(jwks),
      algorithms: metadata.algorithms,
      fetchedAt: this.options.now(),
    };
  }
}

/**
 * The issuer could not be reached or answered badly. Argo CD answers 401 here, which sends
 * the user to log in again, through the same unreachable issuer. We answer 503: the
 * session may well be valid, and the UI can say "try again" instead. The log has the cause.
 */
function throwUnavailable(cause: unknown): never {
  throw new ServiceUnavailableError('identity provider unavailable: cannot verify SSO token', {
    cause,
  });
}
