import http, { OutgoingHttpHeaders } from 'http';
import https from 'https';
import net, { Socket } from 'net';
import { UPGRADED_HEADER } from '../protocol/protocol';
import { AgentStream } from './agent-stream';
import { responseHeaders } from './response-headers';

/** A WebSocket upgrade a tunnel stream asks for, once the allowlist has let it through. */
export interface UpgradeRequest {
  target: { scheme: 'http' | 'https'; host: string; port: number };
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  connectTimeoutMs: number;
  /** Trusted for an https backend; undefined: Node's public CAs. */
  ca?: string[];
}

/** What StreamForwarder learns about an upgrade it handed over. */
export interface UpgradeOutcome {
  /** The backend answered: 101, or a refusal that goes back as a plain response. */
  forwarded: () => void;
  /** The status to log, once the exchange is over (101 at once). */
  log: (status: number) => void;
  /** The backend gave no answer: the connection failed, or was not made in time. */
  failed: (err: Error, connectTimedOut: boolean) => void;
}

/** A WebSocket upgrade: Node's http client, then raw bytes both ways over the stream. */
export function forwardWebSocket(
  stream: AgentStream,
  request: UpgradeRequest,
  outcome: UpgradeOutcome,
): void {
  const { target, method, path, headers, connectTimeoutMs } = request;
  const client = target.scheme === 'https' ? https : http;
  const req = client.request({
    host: target.host,
    port: target.port,
    method,
    path,
    headers,
    agent: false,
    servername: net.isIP(target.host) ? undefined : target.host,
    ca: target.scheme === 'https' ? request.ca : undefined,
  });
  let connectTimedOut = false;
  req.once('socket', (socket: Socket) => {
    if (!socket.connecting) return;
    const timer = setTimeout(() => {
      connectTimedOut = true;
      req.destroy();
    }, connectTimeoutMs);
    socket.once(target.scheme === 'https' ? 'secureConnect' : 'connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
  });
  req.once('response', (res) => {
    // The backend refused the upgrade: its answer goes back as a plain response.
    if (stream.destroyed) {
      res.destroy();
      return;
    }
    outcome.forwarded();
    stream.respond({ ':status': res.statusCode ?? 502, ...responseHeaders(res.headers) });
    stream.pipeFrom(res);
    res.once('end', () => outcome.log(res.statusCode ?? 0));
  });
  req.once('upgrade', (res, socket, head) => {
    if (stream.destroyed) {
      socket.destroy();
      return;
    }
    outcome.forwarded();
    stream.respond({ ':status': 200, [UPGRADED_HEADER]: '101', ...responseHeaders(res.headers) });
    if (head.length > 0) stream.write(head);
    stream.pipeFrom(socket);
    stream.body?.pipe(socket);
    socket.on('error', () => stream.abort());
    stream.onClose(() => socket.destroy());
    outcome.log(101);
  });
  req.once('error', (err) => outcome.failed(err, connectTimedOut));
  stream.onClose(() => {
    if (!req.destroyed && !(req as { res?: http.IncomingMessage }).res) req.destroy();
  });
  req.end();
}
