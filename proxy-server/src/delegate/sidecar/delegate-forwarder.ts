import {
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
  ServerResponse,
  STATUS_CODES,
  validateHeaderName,
  validateHeaderValue,
} from 'http';
import { Duplex } from 'stream';
import { BackendConfig, ServiceConfig } from '../../config/types';
import {
  BadGatewayError,
  GatewayTimeoutError,
  ProxyError,
  ServiceUnavailableError,
} from '../../errors';
import { ProxyMetrics } from '../../metrics';
import { ForwardFailure, Forwarder, hasRequestBody, UpgradeHooks } from '../../proxy/forwarder';
import { ServiceForwarder } from '../../proxy/service-forwarder';
import { signRelay } from './relay-signature';
import { ReplicaRegistry } from './replica-registry';
import { filterResponseHeaders } from '../../proxy/upstream-headers';
import { DelegateHub, Tunnel } from './hub';
import { toTunnelHeaders, TunnelHeaders, TunnelStream } from '../protocol/tunnel-session';
import {
  CONNECT_TIMEOUT_HEADER,
  DelegateErrorCode,
  ERROR_HEADER,
  isConnectionSpecific,
  UPGRADED_HEADER,
  UPGRADE_HEADER,
} from '../protocol/protocol';

/**
 * Step 8 for a service with `delegate: NAME`: each request becomes one tunnel stream on
 * the least busy tunnel of that delegate. Same contract as the direct path: bodies stream
 * both ways under flow control, the response timeout runs from the end of the request body,
 * a client that leaves cancels the stream (and the agent's backend request with it), and
 * failures before the response become JSON errors:
 * - no agent of that name connected → 503 naming the delegate;
 * - the agent refused the host (allowlist) or could not reach it → 502; its connect
 *   timeout → 504; no response in time → 504; the tunnel lost mid-request → 502.
 */
export class DelegateForwarder implements Forwarder {
  private readonly streams = new Set<TunnelStream>();
  /** Connections to peer replicas' relay listeners, by address. */
  private readonly peerForwarders = new Map<string, ServiceForwarder>();

  constructor(
    private readonly service: ServiceConfig & { delegate: string },
    private readonly backend: BackendConfig,
    private readonly hub: DelegateHub,
    private readonly metrics: ProxyMetrics,
    private readonly onFailure: ForwardFailure,
    /** Set when replicas share tunnels (--redis); never on a request that was relayed already. */
    private readonly relay?: RelayClient,
  ) {}

  forward(
    req: IncomingMessage,
    res: ServerResponse,
    upstreamPath: string,
    headers: OutgoingHttpHeaders,
  ): void {
    const fail = (err: ProxyError) => this.onFailure(err, req, res);
    if (this.relay && !this.hub.connected(this.service.delegate)) {
      return this.viaPeer(req.method ?? 'GET', upstreamPath, headers, fail, (peer, signed) =>
        peer.forward(req, res, upstreamPath, signed),
      );
    }
    const withBody = hasRequestBody(req);
    const stream = this.open(req.method ?? 'GET', upstreamPath, headers, {}, !withBody, fail);
    if (!stream) return;
    // Set once the client's outcome is decided: a response, or exactly one error.
    let answered = false;
    let ended = false;
    let timer: NodeJS.Timeout | undefined;
    const startTimer = () => {
      if (answered || stream.isClosed) return;
      timer = setTimeout(() => {
        answered = true;
        stream.reset();
        fail(new GatewayTimeoutError('backend did not respond in time'));
      }, this.backend.responseTimeoutMs);
    };
    stream.events = {
      onHeaders: (h) => {
        clearTimeout(timer);
        if (answered) return;
        answered = true;
        const answer = this.answerFrom(stream, h, fail);
        if (!answer) return;
        if (res.destroyed) return stream.reset();
        res.writeHead(answer.status, answer.headers);
      },
      onData: (chunk, end) => {
        if (!answered || res.destroyed) return;
        stream.handOn(chunk, res);
        if (end) {
          ended = true;
          res.end();
        }
      },
      onReset: () => {
        clearTimeout(timer);
        if (!answered) {
          answered = true;
          if (!res.destroyed) fail(new BadGatewayError(`delegate ${this.service.delegate} failed`));
        } else if (!ended && !res.destroyed) {
          // The agent or its backend broke off mid-response: cut ours too, never a clean end.
          res.destroy();
        }
      },
      onClose: () => {
        clearTimeout(timer);
        // The backend answered before reading the whole upload: drop the rest.
        if (!req.complete) req.resume();
      },
    };
    // Like the direct path: the response timeout counts from the end of the upload.
    if (withBody) stream.writeFrom(req, startTimer);
    else startTimer();
    res.once('close', () => {
      if (!res.writableFinished) stream.reset();
    });
    req.once('aborted', () => stream.reset());
  }

  forwardUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    upstreamPath: string,
    headers: OutgoingHttpHeaders,
    hooks: UpgradeHooks,
  ): void {
    if (this.relay && !this.hub.connected(this.service.delegate)) {
      return this.viaPeer('GET', upstreamPath, headers, hooks.onFailure, (peer, signed) =>
        peer.forwardUpgrade(req, socket, head, upstreamPath, signed, hooks),
      );
    }
    const stream = this.open(
      'GET',
      upstreamPath,
      headers,
      { [UPGRADE_HEADER]: 'websocket' },
      false,
      hooks.onFailure,
    );
    if (!stream) return;
    let answered = false;
    const timer = setTimeout(() => {
      answered = true;
      stream.reset();
      hooks.onFailure(new GatewayTimeoutError('backend did not respond in time'));
    }, this.backend.responseTimeoutMs);
    socket.once('close', () => stream.reset());
    stream.events = {
      onHeaders: (h) => {
        clearTimeout(timer);
        if (answered) return;
        answered = true;
        const answer = this.answerFrom(stream, h, hooks.onFailure);
        if (!answer) return;
        const upgraded = h[UPGRADED_HEADER] === '101';
        const status = upgraded ? 101 : answer.status;
        const out = answer.headers;
        if (upgraded) {
          out.connection = 'Upgrade';
          out.upgrade = 'websocket';
        } else out.connection = 'close';
        socket.write(rawResponseHead(status, out));
        if (upgraded) hooks.onUpgraded();
        if (head.length > 0) stream.write(head);
        // Raw bytes both ways from here on (a refusal body too, then the socket closes).
        stream.writeFrom(socket);
      },
      onData: (chunk, end) => {
        if (!answered) return;
        stream.handOn(chunk, socket);
        if (end) socket.end();
      },
      onReset: () => {
        clearTimeout(timer);
        if (!answered) {
          answered = true;
          hooks.onFailure(new BadGatewayError(`delegate ${this.service.delegate} failed`));
        } else socket.destroy();
      },
    };
  }

  close(): void {
    for (const stream of this.streams) stream.reset();
    for (const peer of this.peerForwarders.values()) peer.close();
  }

  retire(): void {
    // Streams in flight finish on their tunnels, which belong to the hub; relay connections
    // close once their requests end.
    for (const peer of this.peerForwarders.values()) peer.retire();
  }

  /**
   * No tunnel of this delegate here: hand the (checked, rewritten) request to a replica
   * that has one, as the registry in Redis says, signed so that replica can trust it.
   */
  private viaPeer(
    method: string,
    upstreamPath: string,
    headers: OutgoingHttpHeaders,
    fail: (err: ProxyError) => void,
    send: (peer: ServiceForwarder, signed: OutgoingHttpHeaders) => void,
  ): void {
    const relay = this.relay as RelayClient;
    const name = this.service.delegate;
    relay.registry.peers(name).then(
      (peers) => {
        if (peers.length === 0) {
          this.metrics.delegateRelays.inc({ direction: 'out', result: 'no-peer' });
          return fail(notConnected(name));
        }
        const address = peers[Math.floor(Math.random() * peers.length)];
        let peer = this.peerForwarders.get(address);
        if (!peer) {
          peer = new ServiceForwarder(
            { url: new URL(`http://${address}`), headers: [] },
            this.backend,
            this.onFailure,
          );
          this.peerForwarders.set(address, peer);
        }
        const signed: OutgoingHttpHeaders = { ...headers };
        signRelay(
          relay.key(),
          {
            delegate: name,
            target: this.service.url.origin,
            connectTimeoutMs: this.backend.connectionTimeoutMs,
            responseTimeoutMs: this.backend.responseTimeoutMs,
          },
          method,
          upstreamPath,
          signed,
        );
        this.metrics.delegateRelays.inc({ direction: 'out', result: 'forwarded' });
        send(peer, signed);
      },
      (err: unknown) => {
        this.metrics.delegateRelays.inc({ direction: 'out', result: 'registry-unavailable' });
        fail(
          new ServiceUnavailableError(
            `delegate ${name} is not connected to this replica, and the replica registry is unavailable`,
            { details: { delegate: name }, cause: err },
          ),
        );
      },
    );
  }

  /**
   * The agent's answer as the client may get it; otherwise the stream is reset and `fail`
   * learns why (the agent's refusal, or an answer that cannot be sent as HTTP/1.1).
   */
  private answerFrom(
    stream: TunnelStream,
    h: TunnelHeaders,
    fail: (err: ProxyError) => void,
  ): ResponseHead | undefined {
    const refusal = agentRefusal(h, this.service.delegate);
    const answer = refusal ? undefined : responseHead(h);
    if (answer) return answer;
    stream.reset();
    fail(
      refusal ?? new BadGatewayError(`delegate ${this.service.delegate} sent an invalid response`),
    );
    return undefined;
  }

  /** One stream on the least busy tunnel, or undefined after reporting why there is none. */
  private open(
    method: string,
    upstreamPath: string,
    headers: OutgoingHttpHeaders,
    extra: TunnelHeaders,
    endStream: boolean,
    fail: (err: ProxyError) => void,
  ): TunnelStream | undefined {
    const name = this.service.delegate;
    const tunnel = this.hub.pick(name);
    const stream = tunnel?.session.open();
    if (!tunnel || !stream) {
      fail(notConnected(name));
      return undefined;
    }
    const out = toStreamHeaders(headers);
    Object.assign(out, extra);
    out[':method'] = method;
    out[':scheme'] = this.service.url.protocol.slice(0, -1);
    out[':authority'] = this.service.url.host;
    out[':path'] = upstreamPath;
    out[CONNECT_TIMEOUT_HEADER] = String(this.backend.connectionTimeoutMs);
    this.track(tunnel, stream);
    stream.sendHeaders(out, endStream);
    return stream;
  }

  private track(tunnel: Tunnel, stream: TunnelStream): void {
    const gauge = (tunnel.streamsGauge ??= this.metrics.delegateStreams.labels(tunnel.name));
    tunnel.activeStreams++;
    gauge.inc();
    this.streams.add(stream);
    stream.onClosed = () => {
      tunnel.activeStreams--;
      gauge.dec();
      this.streams.delete(stream);
    };
  }
}

/** What relaying needs: where the other replicas are, and the key to sign with. */
export interface RelayClient {
  registry: ReplicaRegistry;
  key: () => Buffer;
}

function notConnected(name: string): ProxyError {
  return new ServiceUnavailableError(`delegate ${name} is not connected`, {
    details: { delegate: name },
  });
}

/** buildUpstreamHeaders' set, minus what the tunnel carries in pseudo-headers or hop-by-hop. */
function toStreamHeaders(headers: OutgoingHttpHeaders): TunnelHeaders {
  return toTunnelHeaders(headers, isConnectionSpecific);
}

/** The agent's response headers as the client gets them: no pseudo, control or hop-by-hop headers. */
function toResponseHeaders(h: TunnelHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const name of Object.keys(h)) {
    if (isConnectionSpecific(name)) continue;
    out[name] = h[name];
  }
  filterResponseHeaders(out);
  return out;
}

interface ResponseHead {
  status: number;
  headers: IncomingHttpHeaders;
}

/**
 * The agent's status and headers as the client may get them, or undefined when they could
 * not be sent as HTTP/1.1 (SECURITY: the framing carries any strings, so a hostile agent
 * could otherwise inject a header line with CR/LF, or crash writeHead with a bad status).
 */
function responseHead(h: TunnelHeaders): ResponseHead | undefined {
  const status = Number(h[':status']);
  if (!Number.isInteger(status) || status < 100 || status > 999) return undefined;
  const headers = toResponseHeaders(h);
  try {
    for (const [name, value] of Object.entries(headers)) {
      validateHeaderName(name);
      for (const v of Array.isArray(value) ? value : [value ?? '']) validateHeaderValue(name, v);
    }
  } catch {
    return undefined;
  }
  return { status, headers };
}

/** The agent said it could not forward (its ERROR_HEADER): the error the client gets. */
function agentRefusal(h: TunnelHeaders, delegate: string): ProxyError | undefined {
  const code = h[ERROR_HEADER] as DelegateErrorCode | undefined;
  if (code === undefined) return undefined;
  const details = { delegate };
  switch (code) {
    case 'host-not-allowed':
      return new BadGatewayError(`delegate ${delegate} is not allowed to reach this backend`, {
        details,
      });
    case 'connect-timeout':
      return new GatewayTimeoutError('backend did not accept the connection in time', { details });
    case 'unreachable':
      return new BadGatewayError('backend is unreachable or failed', { details });
    default:
      return new BadGatewayError(`delegate ${delegate} refused the request`, { details });
  }
}

function rawResponseHead(status: number, headers: IncomingHttpHeaders): string {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) head += `${name}: ${v}\r\n`;
  }
  return head + '\r\n';
}
