import { IncomingHttpHeaders } from 'http';
import {
  extractSessionToken,
  MAX_SESSION_TOKEN_LENGTH,
} from '../../../proxy-server/src/auth/token-extraction';
import { AuthenticationError } from '../../../proxy-server/src/errors';
import { localSession } from '../../helpers/local-tokens';
import { splitTokenCookie, toCookieHeader } from '../../helpers/token-cookies';

const TOKEN = localSession('alice');
const OTHER = localSession('bob');

function extractError(headers: IncomingHttpHeaders): AuthenticationError {
  try {
    extractSessionToken(headers);
  } catch (err) {
    if (err instanceof AuthenticationError) return err;
    throw err;
  }
  throw new Error('expected extractSessionToken to throw');
}

/** A JWT-shaped token of `length` characters. */
function tokenOfLength(length: number): string {
  return `aaaa.bbbb.${'c'.repeat(length - 10)}`;
}

describe('extractSessionToken', () => {
  it('reads a single argocd.token cookie', () => {
    expect(extractSessionToken({ cookie: `argocd.token=${TOKEN}` })).toBe(TOKEN);
  });

  it('ignores other cookies around the session cookie', () => {
    const cookie = `theme=dark; argocd.token=${TOKEN}; argocd.tokenish=x; _ga=GA1.2`;
    expect(extractSessionToken({ cookie })).toBe(TOKEN);
  });

  it('unquotes a double-quoted cookie value as Go net/http does', () => {
    expect(extractSessionToken({ cookie: `argocd.token="${TOKEN}"` })).toBe(TOKEN);
  });

  it('reads a bearer token', () => {
    expect(extractSessionToken({ authorization: `Bearer ${TOKEN}` })).toBe(TOKEN);
  });

  it('accepts the bearer scheme in any case', () => {
    expect(extractSessionToken({ authorization: `bearer ${TOKEN}` })).toBe(TOKEN);
  });

  it('prefers a bearer token over the cookie, as argocd-server getToken does', () => {
    const headers = { authorization: `Bearer ${TOKEN}`, cookie: `argocd.token=${OTHER}` };
    expect(extractSessionToken(headers)).toBe(TOKEN);
  });

  it.each([
    ['basic credentials', 'Basic dXNlcjpwYXNz'],
    ['a bearer value that is not a JWT', 'Bearer not-a-jwt'],
  ])('falls back to the cookie when Authorization carries %s', (_case, authorization) => {
    expect(extractSessionToken({ authorization, cookie: `argocd.token=${OTHER}` })).toBe(OTHER);
  });

  describe('chunked cookies written the way Argo CD util/http splits them', () => {
    it.each([
      ['one chunk', 1000],
      ['two chunks', 5000],
      ['five chunks', 18_000],
      ['twenty chunks', 80_000],
    ])('round-trips a token that needs %s', (_case, length) => {
      const token = tokenOfLength(length);
      const cookies = splitTokenCookie(token);
      // Within the 4096-byte browser limit (a two-digit count makes util/http's 4093 one more).
      expect(cookies.every((cookie) => cookie.length <= 4096)).toBe(true);
      expect(extractSessionToken({ cookie: toCookieHeader(cookies) })).toBe(token);
    });

    it('round-trips chunks sent in any order', () => {
      const token = tokenOfLength(12_000);
      const pairs = toCookieHeader(splitTokenCookie(token)).split('; ').reverse();
      expect(extractSessionToken({ cookie: pairs.join('; ') })).toBe(token);
    });

    it('ignores stale chunks beyond the announced count (Argo CD never deletes them)', () => {
      const token = tokenOfLength(5000);
      const cookie = toCookieHeader(splitTokenCookie(token), [
        'argocd.token-2=stale',
        'argocd.token-3=x',
      ]);
      expect(extractSessionToken({ cookie })).toBe(token);
    });

    it('accepts the counted form with a single chunk', () => {
      expect(extractSessionToken({ cookie: `argocd.token=1:${TOKEN}` })).toBe(TOKEN);
    });
  });

  describe('rejections', () => {
    const huge = tokenOfLength(MAX_SESSION_TOKEN_LENGTH + 1);
    it.each<[string, IncomingHttpHeaders, string]>([
      ['no headers at all', {}, 'no session token'],
      ['only unrelated cookies', { cookie: 'theme=dark; a=b' }, 'no session token'],
      ['an empty session cookie (logged out)', { cookie: 'argocd.token=' }, 'no session token'],
      [
        'a bearer value that is not a JWT',
        { authorization: 'Bearer abc' },
        'malformed bearer token',
      ],
      ['a cookie that is not a JWT', { cookie: 'argocd.token=garbage' }, 'malformed session token'],
      [
        'a missing chunk',
        { cookie: 'argocd.token=3:aaaa.bb; argocd.token-1=bb.cc' },
        'malformed session cookie: a chunk is missing',
      ],
      [
        'an empty chunk',
        { cookie: 'argocd.token=2:aaaa.bb; argocd.token-1=' },
        'malformed session cookie: a chunk is missing',
      ],
      [
        'a chunk count of zero',
        { cookie: 'argocd.token=0:aaaa.bbbb.cccc' },
        'malformed session cookie',
      ],
      [
        'a non-numeric chunk count',
        { cookie: 'argocd.token=x:aaaa.bbbb.cccc' },
        'malformed session cookie',
      ],
      [
        'more than one colon',
        { cookie: 'argocd.token=2:a:b; argocd.token-1=c' },
        'malformed session cookie',
      ],
      [
        'more than 20 chunks',
        { cookie: 'argocd.token=21:aaaa.bbbb.cccc' },
        'session token too large',
      ],
      [
        'the session cookie sent twice (cookie tossing)',
        { cookie: `argocd.token=${TOKEN}; argocd.token=${OTHER}` },
        'ambiguous session cookie: sent twice',
      ],
      [
        'a chunk sent twice',
        { cookie: 'argocd.token=2:aaaa.bb; argocd.token-1=bb.cc; argocd.token-1=bb.dd' },
        'ambiguous session cookie: sent twice',
      ],
      ['an oversized cookie', { cookie: `argocd.token=${huge}` }, 'session token too large'],
      ['an oversized bearer token', { authorization: `Bearer ${huge}` }, 'session token too large'],
      [
        'chunks that join to an oversized token',
        { cookie: toCookieHeader(splitTokenCookie(huge, '')) },
        'session token too large',
      ],
    ])('rejects %s', (_case, headers, message) => {
      const err = extractError(headers);
      expect(err.message).toBe(message);
      expect(err.status).toBe(401);
      // The auth_failures_total label comes from the error's reason, never its message.
      expect(err).toMatchObject({ reason: message === 'no session token' ? 'missing' : 'invalid' });
    });

    it('never puts the token into the message', () => {
      const err = extractError({ cookie: `argocd.token=${TOKEN}; argocd.token=${TOKEN}` });
      expect(err.message).not.toContain(TOKEN.split('.')[1]);
    });
  });
});
