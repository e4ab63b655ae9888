import { Identity } from '../../../proxy-server/src/auth/identity';
import {
  DEFAULT_TOKEN_CACHE_LIMITS,
  VerifiedTokenCache,
} from '../../../proxy-server/src/auth/verified-token-cache';

function identity(name: string, groups: string[] = []): Identity {
  return { subject: name, username: name, userId: name, groups, issuer: 'argocd' };
}

describe('VerifiedTokenCache', () => {
  it('keys tokens by a SHA-256 digest, never the token itself', () => {
    // base64url(SHA-256("header.payload.signature")), unpadded, computed apart with
    // printf %s header.payload.signature | openssl dgst -sha256 -binary | basenc --base64url | tr -d =
    expect(VerifiedTokenCache.keyOf('header.payload.signature')).toBe(
      'JW0E205eSsMIdR7QiFtyK3WGMFZ8U6cSXtn70Gjlw_Y',
    );
  });

  it('evicts the oldest entries to stay within the byte budget', () => {
    const cache = new VerifiedTokenCache(
      { ...DEFAULT_TOKEN_CACHE_LIMITS, maxBytes: 64 * 1024 },
      () => 0,
    );
    const groups = Array.from({ length: 20 }, (_, i) => `group-${i}`);
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    keys.forEach((key, i) => cache.set(key, identity(`user-${i}`, groups)));
    // Each identity weighs 1,244 or 1,250 bytes by the cache's estimate (256, and 2 per
    // character of its strings, 16 more per group): the newest 52 fit in 64 KiB.
    expect(cache.size).toBe(52);
    expect(keys.filter((key) => cache.get(key) !== undefined)).toEqual(keys.slice(48));
    expect(cache.get('k99')).toEqual(identity('user-99', groups));
  });

  it('does not cache an identity too large for its share of the budget', () => {
    const cache = new VerifiedTokenCache(
      { ...DEFAULT_TOKEN_CACHE_LIMITS, maxBytes: 64 * 1024 },
      () => 0,
    );
    cache.set('small', identity('small'));
    cache.set(
      'huge',
      identity(
        'huge',
        Array.from({ length: 1000 }, (_, i) => `group-${i}`),
      ),
    );
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.get('small')).toEqual(identity('small'));
  });

  it('does not cache an identity that has already expired', () => {
    const cache = new VerifiedTokenCache(DEFAULT_TOKEN_CACHE_LIMITS, () => 10_000);
    cache.set('k', { ...identity('late'), expiresAt: 10 });
    expect(cache.size).toBe(0);
  });
});
