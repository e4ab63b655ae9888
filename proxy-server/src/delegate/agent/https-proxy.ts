/**
 * The proxy an outbound connection to `url` should use, from the usual environment
 * variables (as curl and Go read them): HTTPS_PROXY/https_proxy for https URLs,
 * HTTP_PROXY/http_proxy for http ones, unless NO_PROXY/no_proxy lists the host (exact
 * name, a `.suffix` or `suffix` matching subdomains too, `host:port`, or `*`).
 *
 * Why not the `proxy-from-env` package (2.1.0) with undici's ProxyAgent: checked against
 * this function's cases, proxy-from-env proxies `argocd.example.com` despite
 * `NO_PROXY=example.com` or `example.com:443` (a bare name is an exact match there; curl and
 * Go's httpproxy cover subdomains, and operators copy NO_PROXY from those tools); reads
 * `HTTPS_PROXY=proxy:3128` as `https://proxy:3128` (TLS to a plain proxy; curl and Go assume
 * `http://`); prefers `https_proxy` over `HTTPS_PROXY`; falls back to ALL_PROXY; and reads
 * only `process.env`, not the environment the agent is given. undici's EnvHttpProxyAgent
 * matches NO_PROXY like Go but takes the same scheme-less value as a URL with scheme
 * `proxy:`. And the tunnel is an HTTP/1.1 Upgrade on a socket the agent keeps: through
 * undici's `upgrade()` a refusal (401 and its JSON reason, which the agent logs with "check
 * the token") becomes a bare 'bad upgrade' error (undici lib/api/api-upgrade.js).
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
