import { IncomingHttpHeaders, OutgoingHttpHeaders } from 'http';
import { isConnectionSpecific } from '../protocol/protocol';

/** undici's raw response headers as a header object (see responseHeaders). */
export function rawResponseHeaders(raw: Buffer[]): OutgoingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toString('latin1').toLowerCase();
    const value = raw[i + 1].toString('latin1');
    const existing = headers[name];
    if (existing === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
    else if (Array.isArray(existing)) existing.push(value);
    else headers[name] = `${existing}, ${value}`;
  }
  return responseHeaders(headers);
}

/** The backend's response headers as a tunnel stream carries them (no hop-by-hop ones). */
export function responseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {};
  for (const name of Object.keys(headers)) {
    // SECURITY: control headers from a backend are dropped too, so it cannot forge one.
    if (isConnectionSpecific(name) || listed.has(name) || name === 'proxy-authenticate') continue;
    out[name] = headers[name];
  }
  return out;
}
