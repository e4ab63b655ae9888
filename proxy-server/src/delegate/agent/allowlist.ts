/**
 * The agent's allowlist (`--allow`): the only backends it reaches, whatever the sidecar asks
 * for, so the sidecar's configuration (or whoever controls it) cannot send the agent
 * anywhere else in its network (docs/security.md).
 */

/** One `--allow` entry: a host, optionally with a port (without one, any port of it). */
export interface AllowedHost {
  host: string;
  port?: number;
}

/**
 * Parses `HOST[:PORT]` (`[v6]:PORT` for IPv6). Host names are compared lowercased and
 * exactly: no wildcards, so the allowlist says precisely what the agent may reach.
 */
export function parseAllowedHost(text: string): AllowedHost | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+))(?::(\d{1,5}))?$/.exec(text.trim());
  if (!match) return undefined;
  const port = match[3] === undefined ? undefined : Number(match[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return { host: (match[1] ?? match[2]).toLowerCase(), port };
}

/**
 * The backend a stream asks for, from its `:scheme` and `:authority`, or undefined when
 * they are not a plain `http(s)://host[:port]` (no user info, no path tricks).
 */
export function parseTarget(
  scheme: unknown,
  authority: unknown,
): { scheme: 'http' | 'https'; host: string; port: number; authority: string } | undefined {
  if (scheme !== 'http' && scheme !== 'https') return undefined;
  if (typeof authority !== 'string' || !/^[A-Za-z0-9.\-_[\]:]+$/.test(authority)) return undefined;
  let url: URL;
  try {
    url = new URL(`${scheme}://${authority}`);
  } catch {
    return undefined;
  }
  // The character class above already rules out user info, paths, queries and fragments.
  if (url.hostname === '') return undefined;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? (scheme === 'https' ? 443 : 80) : Number(url.port);
  return { scheme, host, port, authority: authority.toLowerCase() };
}

/** Whether `host:port` is on the list. */
export function isAllowed(allow: AllowedHost[], host: string, port: number): boolean {
  return allow.some((a) => a.host === host && (a.port === undefined || a.port === port));
}
