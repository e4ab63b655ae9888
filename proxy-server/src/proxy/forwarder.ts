/**
 * Step 8's contract: what the pipeline calls to forward a request, whichever way it
 * travels. Directly to the backend: ServiceForwarder (service-forwarder.ts); through a
 * delegate agent: DelegateForwarder (delegate/sidecar/delegate-forwarder.ts).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'http';
import type { Duplex } from 'stream';
import type { ProxyError } from '../errors';
import type { CircuitState } from './backend-health';

/** What happened to a forwarded request that did not get a response. */
export type ForwardFailure = (err: ProxyError, req: IncomingMessage, res: ServerResponse) => void;

/** What the pipeline learns about a forwarded WebSocket upgrade. */
export interface UpgradeHooks {
  /** The backend answered 101: the sockets are spliced. */
  onUpgraded: () => void;
  /** Nothing was sent to the client yet: answer with this error. */
  onFailure: (err: ProxyError) => void;
}

/** Step 8 for one service: directly (ServiceForwarder) or through a delegate agent. */
export interface Forwarder {
  /** Forwards `req` to `upstreamPath` (path and query) on the service with `headers`. */
  forward(
    req: IncomingMessage,
    res: ServerResponse,
    upstreamPath: string,
    headers: OutgoingHttpHeaders,
  ): void;
  /** Forwards a WebSocket upgrade; reports the outcome through `hooks`. */
  forwardUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    upstreamPath: string,
    headers: OutgoingHttpHeaders,
    hooks: UpgradeHooks,
  ): void;
  /** Destroys every connection at once (shutdown). */
  close(): void;
  /** Replaced by a new configuration: in-flight requests finish, nothing new starts. */
  retire(): void;
}

/** What the forwarder reports for metrics. */
export interface ForwardObserver {
  retried?: () => void;
  circuit?: (url: URL, state: CircuitState) => void;
  limited?: (reason: 'concurrency' | 'body') => void;
}

/** A request has a body when it says so: a Content-Length above 0, or chunked framing. */
export function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}
