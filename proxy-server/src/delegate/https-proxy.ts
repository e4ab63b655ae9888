/**
 * The proxy an outbound connection to `url` should use, from the usual environment
 * variables (as curl and Go read them): HTTPS_PROXY/https_proxy for https URLs,
 * HTTP_PROXY/http_proxy for http ones, unless NO_PROXY/no_proxy lists the host (exact
 * name, a `.suffix` or `suffix` matching subdomains too, `host:port`, or `*`).
 */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv): URL | undefined {
  const value =
    url.protocol === 'https:'
      ? (env.HTTPS_PROXY ?? env.https_proxy)
      : (env.HTTP_PROXY ?? env.http_proxy);
  if (!value) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const noProxy = (env.NO_PROXY ?? env.no_proxy ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const entry of noProxy) {
    if (entry === '*') return undefined;
    const [name, entryPort] = entry.split(/:(?=\d+$)/);
    if (entryPort !== undefined && entryPort !== port) continue;
    const bare = name.replace(/^\*?\./, '');
    if (host === bare || host.endsWith(`.${bare}`)) return undefined;
  }
  try {
    return new URL(value.includes('://') ? value : `http://${value}`);
  } catch {
    throw new Error('HTTPS_PROXY/HTTP_PROXY is not a valid URL');
  }
}
