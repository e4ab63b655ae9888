import { STATUS_CODES } from 'http';
import { Duplex } from 'stream';
import { ProxyError, toErrorResponse } from '../errors';

/** Writes a JSON error response on a raw socket (an upgrade that is refused); returns its status. */
export function writeErrorToSocket(socket: Duplex, err: unknown): number {
  const body = toErrorResponse(err);
  if (!socket.writable) {
    socket.destroy();
    return body.status;
  }
  const payload = JSON.stringify(body);
  // Retry-After and the like; values are ours (digits), never from the request.
  const extra =
    err instanceof ProxyError
      ? Object.entries(err.headers)
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('')
      : '';
  socket.end(
    `HTTP/1.1 ${body.status} ${STATUS_CODES[body.status] ?? 'Error'}\r\n` +
      extra +
      'content-type: application/json\r\n' +
      `content-length: ${Buffer.byteLength(payload)}\r\n` +
      'cache-control: no-store\r\n' +
      'connection: close\r\n\r\n' +
      payload,
  );
  return body.status;
}
