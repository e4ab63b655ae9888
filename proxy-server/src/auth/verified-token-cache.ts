import { Identity } from './identity';
import { tokenKey } from './token-key';
import { BoundedCache } from '../util/bounded-cache';

/** Limits of the verified-token cache. */
export interface TokenCacheLimits {
  /** Most tokens remembered; 0 turns the cache off. Default: 10000 */
  maxEntries: number;
  /** Approximate memory budget for the cached identities. Default: 16 MiB */
  maxBytes: number;
  /** Longest a verification is trusted without re-checking the signature. Default: 5 minutes */
  maxAgeMs: number;
}

export const DEFAULT_TOKEN_CACHE_LIMITS: TokenCacheLimits = {
  maxEntries: 10_000,
  maxBytes: 16 * 1024 * 1024,
  maxAgeMs: 5 * 60 * 1000,
};

/** Map and key overhead per entry, roughly, on top of the identity's strings. */
const ENTRY_OVERHEAD_BYTES = 256;

/**
 * Identities of tokens that verified, keyed by the SHA-256 of the token (the cache never
 * holds a usable credential). An entry lives until min(token `exp`, verification + maxAge);
 * when either limit is reached, entries not used recently go first (see BoundedCache). Only
 * successes are stored: a token that failed is verified again each time it is presented.
 */
export class VerifiedTokenCache {
  private readonly entries: BoundedCache<Identity>;

  constructor(
    private readonly limits: TokenCacheLimits,
    private readonly now: () => number,
  ) {
    this.entries = new BoundedCache(limits, now);
  }

  /** The cache key of a token. */
  static keyOf(token: string): string {
    return tokenKey(token);
  }

  get(key: string): Identity | undefined {
    return this.entries.get(key);
  }

  /** `maxAgeMs`: a shorter life than the limits' (never a longer one). */
  set(key: string, identity: Identity, maxAgeMs = this.limits.maxAgeMs): void {
    const now = this.now();
    const expiresAtMs = Math.min(
      identity.expiresAt === undefined ? Infinity : identity.expiresAt * 1000,
      now + Math.min(maxAgeMs, this.limits.maxAgeMs),
    );
    if (expiresAtMs <= now) return;
    const bytes = estimateBytes(identity);
    // One identity with thousands of groups must not flush everybody else out.
    if (bytes > this.limits.maxBytes / 16) return;
    this.entries.set(key, identity, expiresAtMs, bytes);
  }

  get size(): number {
    return this.entries.size;
  }
}

function estimateBytes(identity: Identity): number {
  let chars = identity.subject.length + identity.username.length + identity.userId.length;
  chars += identity.issuer.length;
  for (const group of identity.groups) chars += group.length + 16;
  return ENTRY_OVERHEAD_BYTES + chars * 2;
}
