import { IncomingHttpHeaders } from 'http';
import { AuthenticationError } from '../errors';

/** The session cookie Argo CD sets (common.AuthCookieName in Argo CD's common/common.go). */
export const AUTH_COOKIE_NAME = 'argocd.token';

/**
 * The most chunks a session cookie may be split into. Argo CD's util/http writes at most
 * `ARGOCD_MAX_COOKIE_NUMBER` cookies. Default: 20 (Argo CD's default).
 */
export const MAX_COOKIE_CHUNKS = 20;

/**
 * The longest session token accepted, in characters: 20 chunks of at most 4093 characters
 * (util/http maxCookieLength; the cookie name and attributes make each chunk shorter still).
 * Anything longer cannot have come from Argo CD.
 */
export const MAX_SESSION_TOKEN_LENGTH = MAX_COOKIE_CHUNKS * 4093;

/** Three base64url segments; the signature may be empty (alg none), which verification rejects. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const CHUNK_NAME = /^argocd\.token-([1-9][0-9]?)$/;
const CHUNK_COUNT = /^([1-9][0-9]?):([^:]*)$/;

/**
 * The session token of a request, from `Authorization: Bearer <jwt>` or from the
 * `argocd.token` cookie, possibly split into chunks (`argocd.token=<N>:<part1>`,
 * `argocd.token-1=<part2>`, … as Argo CD's util/http SetTokenCookie writes it).
 *
 * Precedence follows argocd-server's getToken (server/server.go): a bearer token that looks
 * like a JWT wins over the cookie; an `Authorization` header of any other form is ignored
 * and the cookie is used.
 *
 * Throws `AuthenticationError('no session token')` when there is none, and an
 * `AuthenticationError` with a short reason when the cookie chunks are malformed or the
 * token is too large. Messages never contain the token.
 *
 * Example: `extractSessionToken({ cookie: 'argocd.token=eyJ...' })` → `'eyJ...'`
 */
export function extractSessionToken(headers: IncomingHttpHeaders): string {
  const bearer = readBearerToken(headers.authorization);
  if (bearer !== undefined && JWT_SHAPE.test(bearer)) return checkTokenSize(bearer);
  const cookie = headers.cookie === undefined ? undefined : joinTokenCookie(headers.cookie);
  if (cookie !== undefined) {
    checkTokenSize(cookie);
    if (!JWT_SHAPE.test(cookie)) throw new AuthenticationError('malformed session token');
    return cookie;
  }
  if (bearer !== undefined) {
    checkTokenSize(bearer);
    throw new AuthenticationError('malformed bearer token');
  }
  throw new AuthenticationError('no session token', { reason: 'missing' });
}

/** The credentials of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 9110). */
function readBearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^bearer +(.*)$/is.exec(header.trim());
  return match ? match[1].trim() : undefined;
}

function checkTokenSize(token: string): string {
  // SECURITY: bound the work (hashing, base64 and JSON decoding) an unauthenticated caller
  // can cause; Argo CD never issues a token that needs more than 20 cookie chunks
  // (util/http/http.go maxCookieNumber, maxCookieLength).
  if (token.length > MAX_SESSION_TOKEN_LENGTH) {
    throw new AuthenticationError('session token too large');
  }
  return token;
}

/**
 * Joins the `argocd.token` chunks of a Cookie header the way util/http JoinCookies reads
 * them, but strictly: a missing or empty chunk, a bad chunk count, or a cookie sent twice is
 * an error rather than a silently truncated token. Chunks beyond the count are ignored:
 * Argo CD does not delete them when a shorter token replaces a longer one.
 * Returns undefined when there is no (non-empty) `argocd.token` cookie.
 */
export function joinTokenCookie(cookieHeader: string): string | undefined {
  const values = parseTokenCookies(cookieHeader);
  const first = values.get(AUTH_COOKIE_NAME);
  if (first === undefined || first === '') return undefined;
  const counted = CHUNK_COUNT.exec(first);
  if (!counted) {
    if (first.includes(':')) throw new AuthenticationError('malformed session cookie');
    return first;
  }
  const count = Number(counted[1]);
  if (count > MAX_COOKIE_CHUNKS) throw new AuthenticationError('session token too large');
  const parts = [counted[2]];
  for (let index = 1; index < count; index++) {
    const part = values.get(`${AUTH_COOKIE_NAME}-${index}`);
    if (!part) throw new AuthenticationError('malformed session cookie: a chunk is missing');
    parts.push(part);
  }
  return parts.join('');
}

/**
 * The values of `argocd.token` and `argocd.token-<i>` in a Cookie header (Node joins
 * repeated Cookie headers with `; `). Values in double quotes are unquoted, as Go's
 * net/http does.
 */
function parseTokenCookies(cookieHeader: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const pair of cookieHeader.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim();
    if (name !== AUTH_COOKIE_NAME && !CHUNK_NAME.test(name)) continue;
    // SECURITY: two cookies of the same name mean another site on a parent domain (or a
    // path-scoped cookie) planted one: "cookie tossing". util/http JoinCookies keeps the
    // last, so the browser's order decides; refuse to guess whose session this is.
    if (values.has(name)) throw new AuthenticationError('ambiguous session cookie: sent twice');
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1);
    }
    checkTokenSize(value);
    values.set(name, value);
  }
  return values;
}
