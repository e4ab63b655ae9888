import { generateKeyPairSync } from 'crypto';
import { SignJWT } from 'jose';
import { SessionAuthenticator } from '../../../proxy-server/src/auth/session-authenticator';
import { AuthenticationError } from '../../../proxy-server/src/errors';
import { localSession, signLocalToken, TEST_SERVER_SECRET } from '../../helpers/local-tokens';

const NOW = Math.floor(Date.now() / 1000);

function authenticator(secret: string | Buffer = TEST_SERVER_SECRET): SessionAuthenticator {
  return new SessionAuthenticator({ secretKey: Buffer.from(secret), scopes: ['groups'] });
}

async function rejection(auth: SessionAuthenticator, token: string): Promise<AuthenticationError> {
  const err: unknown = await auth.authenticate(token).then(
    () => new Error('expected authenticate to reject'),
    (e: unknown) => e,
  );
  if (err instanceof AuthenticationError) return err;
  throw err;
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A token with the given header and payload and no valid signature. */
function unsigned(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  return `${base64url(header)}.${base64url(payload)}.`;
}

const CLAIMS = {
  iss: 'argocd',
  sub: 'alice:login',
  iat: NOW,
  nbf: NOW,
  exp: NOW + 3600,
  jti: 'id-1',
};

describe('SessionAuthenticator with local Argo CD tokens', () => {
  it.each([
    ['a login session', 'alice:login', 'alice'],
    ['an API key', 'ci:apiKey', 'ci'],
    ['a legacy API key with a plain subject', 'ci', 'ci'],
    ['an unknown capability (defaults to apiKey)', 'ci:other', 'ci'],
  ])('maps %s to the account before the colon', async (_case, sub, account) => {
    const identity = await authenticator().authenticate(signLocalToken({ sub }));
    expect(identity).toEqual({
      subject: account,
      username: account,
      userId: account,
      groups: [],
      issuer: 'argocd',
      expiresAt: expect.any(Number),
    });
  });

  it('maps a project role token to the whole proj:<project>:<role> subject', async () => {
    // Project tokens are looked up by iat or jti in the project; jti is optional for them.
    const token = signLocalToken({ sub: 'proj:team-a:deployer', jti: undefined });
    const identity = await authenticator().authenticate(token);
    expect(identity).toMatchObject({
      subject: 'proj:team-a:deployer',
      username: 'proj:team-a:deployer',
      userId: 'proj:team-a:deployer',
      groups: [],
    });
  });

  it('accepts an API key without exp and reports no expiry', async () => {
    const identity = await authenticator().authenticate(
      signLocalToken({ sub: 'ci:apiKey', exp: undefined }),
    );
    expect(identity.expiresAt).toBeUndefined();
  });

  it('ignores group claims in local tokens', async () => {
    const identity = await authenticator().authenticate(
      localSession('alice', { groups: ['admins'] }),
    );
    expect(identity.groups).toEqual([]);
  });

  it('tolerates a small clock skew on nbf and iat', async () => {
    const token = signLocalToken({ sub: 'alice:login', iat: NOW + 20, nbf: NOW + 20 });
    await expect(authenticator().authenticate(token)).resolves.toMatchObject({ subject: 'alice' });
  });

  it('verifies with the raw bytes of server.secretkey, trailing newline included', async () => {
    const secret = Buffer.from(`${TEST_SERVER_SECRET}\n`);
    const token = signLocalToken({ sub: 'alice:login' }, { secret });
    await expect(authenticator(secret).authenticate(token)).resolves.toMatchObject({
      subject: 'alice',
    });
    expect((await rejection(authenticator(TEST_SERVER_SECRET), token)).message).toBe(
      'invalid token signature',
    );
  });

  describe('rejections', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const valid = signLocalToken(CLAIMS);
    const [validHeader, , validSignature] = valid.split('.');

    it.each<[string, () => Promise<string> | string, string]>([
      ['an expired token', () => signLocalToken({ ...CLAIMS, exp: NOW - 1 }), 'token expired'],
      [
        'a token that expires this very second',
        () => signLocalToken({ ...CLAIMS, exp: NOW }),
        'token expired',
      ],
      [
        'a token not valid before a later time',
        () => signLocalToken({ ...CLAIMS, nbf: NOW + 120 }),
        'token not yet valid',
      ],
      [
        'a token issued in the future',
        () => signLocalToken({ ...CLAIMS, iat: NOW + 120 }),
        'token not yet valid',
      ],
      [
        'a token without iat',
        () => signLocalToken({ ...CLAIMS, iat: undefined }),
        'token has no iat claim',
      ],
      [
        'a non-numeric exp',
        () => signLocalToken({ ...CLAIMS, exp: 'tomorrow' }),
        'invalid token claim exp',
      ],
      [
        'a token signed with another secret',
        () => signLocalToken(CLAIMS, { secret: 'not-the-secret' }),
        'invalid token signature',
      ],
      [
        'a tampered payload',
        () => `${validHeader}.${base64url({ ...CLAIMS, sub: 'admin:login' })}.${validSignature}`,
        'invalid token signature',
      ],
      [
        'alg none',
        () => unsigned({ alg: 'none', typ: 'JWT' }, CLAIMS),
        'token algorithm not allowed',
      ],
      [
        'HS512, even with the right secret',
        () =>
          new SignJWT(CLAIMS)
            .setProtectedHeader({ alg: 'HS512' })
            .sign(Buffer.from(TEST_SERVER_SECRET)),
        'token algorithm not allowed',
      ],
      [
        'an RS256 token claiming iss argocd',
        () => new SignJWT(CLAIMS).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey),
        'token algorithm not allowed',
      ],
      [
        'a token without sub',
        () => signLocalToken({ ...CLAIMS, sub: undefined }),
        'token has no valid subject',
      ],
      [
        'an empty account',
        () => signLocalToken({ ...CLAIMS, sub: ':login' }),
        'token has no valid subject',
      ],
      [
        'a project token without role',
        () => signLocalToken({ ...CLAIMS, sub: 'proj:team-a:' }),
        'token has no valid subject',
      ],
      [
        'an account token without jti',
        () => signLocalToken({ ...CLAIMS, jti: undefined }),
        'token has no unique identifier (jti)',
      ],
      [
        'a token without iss',
        () => signLocalToken({ ...CLAIMS, iss: undefined }),
        'token has no issuer',
      ],
      [
        'another issuer while SSO is off',
        () => signLocalToken({ ...CLAIMS, iss: 'https://idp.example.com' }),
        'unknown token issuer: SSO is not configured',
      ],
      ['garbage', () => 'garbage', 'malformed token'],
      ['three segments of garbage', () => 'a.b.c', 'malformed token'],
      [
        'a payload that is not JSON',
        () => `${validHeader}.${Buffer.from('{nope').toString('base64url')}.${validSignature}`,
        'malformed token',
      ],
      [
        'an oversized token',
        () => `${validHeader}.${'a'.repeat(90_000)}.${validSignature}`,
        'session token too large',
      ],
    ])('rejects %s with 401', async (_case, makeToken, message) => {
      const token = await makeToken();
      const err = await rejection(authenticator(), token);
      expect(err.message).toBe(message);
      expect(err.status).toBe(401);
      expect(err.reason).toBe(message === 'token expired' ? 'expired' : 'invalid');
      expect(err.message).not.toContain(TEST_SERVER_SECRET);
      expect(err.message).not.toContain(token.split('.')[1] ?? token);
    });
  });
});

describe('SessionAuthenticator cache', () => {
  function clockedAuthenticator(options: { cacheSize?: number } = {}) {
    const clock = { ms: NOW * 1000 };
    const auth = new SessionAuthenticator(
      { secretKey: Buffer.from(TEST_SERVER_SECRET), scopes: ['groups'] },
      { now: () => clock.ms, ...options },
    );
    return { auth, clock };
  }

  it('serves a verified token from the sync cache', async () => {
    const { auth } = clockedAuthenticator();
    const token = localSession('alice');
    expect(auth.lookupCached(token)).toBeUndefined();
    const identity = await auth.authenticate(token);
    expect(auth.lookupCached(token)).toEqual(identity);
  });

  it('drops a cached token when it expires', async () => {
    const { auth, clock } = clockedAuthenticator();
    const token = signLocalToken({ ...CLAIMS, exp: NOW + 60 });
    await auth.authenticate(token);
    clock.ms += 60_000;
    expect(auth.lookupCached(token)).toBeUndefined();
    expect((await rejection(auth, token)).message).toBe('token expired');
  });

  it('re-verifies a token after five minutes even if it is valid longer', async () => {
    const { auth, clock } = clockedAuthenticator();
    const token = signLocalToken(CLAIMS);
    const identity = await auth.authenticate(token);
    clock.ms += 5 * 60_000 - 1;
    expect(auth.lookupCached(token)).toEqual(identity);
    clock.ms += 1;
    expect(auth.lookupCached(token)).toBeUndefined();
    await expect(auth.authenticate(token)).resolves.toMatchObject({ subject: 'alice' });
  });

  it('caches API keys without exp for five minutes at most', async () => {
    const { auth, clock } = clockedAuthenticator();
    const token = signLocalToken({ ...CLAIMS, sub: 'ci:apiKey', exp: undefined });
    await auth.authenticate(token);
    clock.ms += 5 * 60_000;
    expect(auth.lookupCached(token)).toBeUndefined();
  });

  it('never caches a failure, and a forged signature never hits the cache of the real token', async () => {
    const { auth } = clockedAuthenticator();
    const token = signLocalToken(CLAIMS);
    await auth.authenticate(token);
    const forged = `${token.slice(0, token.lastIndexOf('.'))}.${'A'.repeat(43)}`;
    expect(auth.lookupCached(forged)).toBeUndefined();
    expect((await rejection(auth, forged)).message).toBe('invalid token signature');
    expect(auth.lookupCached(forged)).toBeUndefined();
  });

  it('evicts the least recently used token when full', async () => {
    const { auth } = clockedAuthenticator({ cacheSize: 2 });
    const [a, b, c] = ['a', 'b', 'c'].map((user) => localSession(user));
    const identityOfA = await auth.authenticate(a);
    await auth.authenticate(b);
    auth.lookupCached(a);
    const identityOfC = await auth.authenticate(c);
    expect(auth.lookupCached(a)).toEqual(identityOfA);
    expect(auth.lookupCached(b)).toBeUndefined();
    expect(auth.lookupCached(c)).toEqual(identityOfC);
  });

  it('caches nothing with cacheSize 0', async () => {
    const { auth } = clockedAuthenticator({ cacheSize: 0 });
    const token = localSession('alice');
    await auth.authenticate(token);
    expect(auth.lookupCached(token)).toBeUndefined();
  });

  it('shares one verification between concurrent requests with the same token', async () => {
    const { auth } = clockedAuthenticator();
    const token = localSession('alice');
    const [first, second] = await Promise.all([auth.authenticate(token), auth.authenticate(token)]);
    expect(second).toBe(first);
  });
});
