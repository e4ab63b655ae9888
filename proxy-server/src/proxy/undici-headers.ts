import type { OutgoingHttpHeaders } from 'http';

/**
 * buildUpstreamHeaders' set as undici takes it (a flat name/value list). Transfer-Encoding
 * is left out: undici frames a body of unknown length as chunked itself (and refuses the
 * header); Content-Length is kept, and undici refuses to send more or fewer bytes. The
 * sidecar's request forwarder and the delegate agent both send through undici's Pool.
 */
export function toUndiciHeaders(headers: OutgoingHttpHeaders, host?: string): string[] {
  const flat: string[] = [];
  if (host !== undefined) flat.push('host', host);
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined || name === 'transfer-encoding') continue;
    if (host !== undefined && name === 'host') continue;
    if (Array.isArray(value)) for (const v of value) flat.push(name, v);
    else flat.push(name, String(value));
  }
  return flat;
}
