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
    const key = VerifiedTokenCache.keyOf('header.payload.signature');
    expect(key).toHaveLength(43);
    expect(key).not.toContain('payload');
  });

  it('evicts the oldest entries to stay within the byte budget', () => {
    const cache = new VerifiedTokenCache(
      { ...DEFAULT_TOKEN_CACHE_LIMITS, maxBytes: 64 * 1024 },
      () => 0,
    );
    const groups = Array.from({ length: 20 }, (_, i) => `group-${i}`);
    for (let i = 0; i < 100; i++) cache.set(`k${i}`, identity(`user-${i}`, groups));
    expect(cache.size).toBeLessThan(100);
    expect(cache.get('k99')).toBeDefined();
    expect(cache.get('k0')).toBeUndefined();
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
    expect(cache.get('small')).toBeDefined();
  });

  it('does not cache an identity that has already expired', () => {
    const cache = new VerifiedTokenCache(DEFAULT_TOKEN_CACHE_LIMITS, () => 10_000);
    cache.set('k', { ...identity('late'), expiresAt: 10 });
    expect(cache.size).toBe(0);
  });
});
