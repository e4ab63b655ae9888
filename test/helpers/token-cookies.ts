/** util/http maxCookieLength in Argo CD. */
const MAX_COOKIE_LENGTH = 4093;

/** The attributes argocd-server's SetTokenCookie adds (no base href, plain HTTP). */
export const ARGOCD_COOKIE_ATTRIBUTES = 'path=/; SameSite=lax; httpOnly';

/**
 * The Set-Cookie values argocd-server writes for a session token, chunked as Argo CD's
 * util/http splitCookie does: each `name=value; attributes` fits in 4093 bytes; with more
 * than one chunk the first is `argocd.token=<N>:<part>` and the rest `argocd.token-<i>=<part>`.
 */
export function splitTokenCookie(
  token: string,
  attributes = ARGOCD_COOKIE_ATTRIBUTES,
  key = 'argocd.token',
): string[] {
  const maxValueLength =
    MAX_COOKIE_LENGTH - (key.length + 3) - (attributes ? attributes.length + 2 : 0);
  const count = Math.ceil(token.length / maxValueLength);
  const cookies: string[] = [];
  for (let index = 0; index < count; index++) {
    const part = token.slice(index * maxValueLength, (index + 1) * maxValueLength);
    const pair =
      index === 0
        ? count === 1
          ? `${key}=${part}`
          : `${key}=${count}:${part}`
        : `${key}-${index}=${part}`;
    cookies.push(attributes ? `${pair}; ${attributes}` : pair);
  }
  return cookies;
}

/** The Cookie request header a browser sends back for those Set-Cookie values. */
export function toCookieHeader(setCookies: string[], extra: string[] = []): string {
  return [...extra, ...setCookies.map((cookie) => cookie.split(';')[0])].join('; ');
}
