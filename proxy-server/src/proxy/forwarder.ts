import http, { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'http';
import https from 'https';
import { Socket } from 'net';
import { Duplex } from 'stream';
import { createProxyMiddleware, Plugin, RequestHandler } from 'http-proxy-middleware';
import { BackendConfig, ServiceConfig } from '../config/types';
import { BadGatewayError, GatewayTimeoutError, ProxyError } from '../errors';
import { filterResponseHeaders } from './upstream-headers';

/** What happened to a forwarded request that did not get a response. */
export type ForwardFailure = (err: ProxyError, req: IncomingMessage, res: ServerResponse) => void;

/** What the pipeline learns about a forwarded WebSocket upgrade. */
export interface UpgradeHooks {
  /** The backend answered 101: the sockets are spliced. */
  onUpgraded: () => void;
  /** Nothing was sent to the client yet: answer with this error. */
  onFailure: (err: ProxyError) => void;
}

interface ForwardState {
  responseTimer?: NodeJS.Timeout;
  connectTimer?: NodeJS.Timeout;
  failure?: ProxyError;
  upgradeHooks?: UpgradeHooks;
  /** The client has been sent something (a 101 or the backend's own refusal). */
  answered?: boolean;
}

/**
 * Step 8: forwards requests to one backend service with http-proxy-middleware over a
 * keep-alive agent that honours the extension's backend settings. Bodies stream both ways
 * (nothing is buffered); timeouts and aborts are enforced per request:
 * - connection not established within `connectionTimeout` → 504;
 * - no response headers within `responseTimeout` → 504;
 * - refused, reset, DNS or TLS failure → 502;
 * - the client goes away → the upstream request is destroyed at once.
 */
export class ServiceForwarder {
  private readonly agent: http.Agent;
  private readonly middleware: RequestHandler;
  private readonly states = new WeakMap<IncomingMessage, ForwardState>();

  constructor(
    private readonly service: ServiceConfig,
    private readonly backend: BackendConfig,
    private readonly onFailure: ForwardFailure,
  ) {
    this.agent = createAgent(service, backend);
    this.middleware = createProxyMiddleware({
      target: service.url.origin,
      agent: this.agent,
      // The Host header is set by buildUpstreamHeaders; TLS checks live in the agent.
      changeOrigin: false,
      secure: !service.tls?.insecureSkipVerify,
      xfwd: false,
      // Default plugins log to the console and write plain-text errors; ours do neither.
      ejectPlugins: true,
      plugins: [this.eventsPlugin],
    });
  }

  /** Forwards `req` to `upstreamPath` (path and query) on this service with `headers`. */
  forward(
    req: IncomingMessage,
    res: ServerResponse,
    upstreamPath: string,
    headers: OutgoingHttpHeaders,
  ): void {
    this.prepare(req, upstreamPath, headers, {});
    res.once('close', () => this.finish(req));
    void this.middleware(req, res, (err?: unknown) => {
      this.fail(req, res, new BadGatewayError('backend request failed', { cause: err }));
    });
  }

  /**
   * Forwards a WebSocket upgrade: once the backend answers 101 the two sockets are spliced
   * and bytes flow both ways untouched. Before that, the same connect and response
   * timeouts apply, and a failure is reported through `hooks.onFailure`.
   */
  forwardUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    upstreamPath: string,
    headers: OutgoingHttpHeaders,
    hooks: UpgradeHooks,
  ): void {
    this.prepare(req, upstreamPath, headers, { upgradeHooks: hooks });
    socket.once('close', () => this.finish(req));
    this.middleware.upgrade(req, socket as Socket, head);
  }

  /** Destroys every connection at once (shutdown). */
  close(): void {
    this.agent.destroy();
  }

  /**
   * Replaced by a new configuration: idle connections close now, busy ones as soon as their
   * request ends, so in-flight requests (long streams too) are never cut.
   */
  retire(): void {
    this.agent.on('free', (socket: Socket) => socket.destroy());
    for (const sockets of Object.values(this.agent.freeSockets)) {
      for (const socket of sockets ?? []) socket.destroy();
    }
  }

  private readonly eventsPlugin: Plugin = (proxy) => {
    // SECURITY: http-proxy's deleteLength pass sets `content-length: 0` on DELETE/OPTIONS
    // without a length but still pipes the body, which the backend would then parse as a
    // second, smuggled request. Framing is left to buildUpstreamHeaders and Node.
    const internals = proxy as unknown as { webPasses: Array<{ name: string }> };
    internals.webPasses = internals.webPasses.filter((pass) => pass.name !== 'deleteLength');
    proxy.on('proxyReq', (proxyReq, req, res) => {
      const state = this.states.get(req);
      if (!state) return;
      // SECURITY/robustness: a client that goes away must not keep a backend request open.
      res.once('close', () => {
        if (!res.writableFinished) proxyReq.destroy();
      });
      // Backstop: Node refuses to send more or fewer body bytes than Content-Length says.
      // (Node 18.12+; not yet in @types/node 20.)
      (proxyReq as http.ClientRequest & { strictContentLength: boolean }).strictContentLength =
        true;
      this.startTimers(proxyReq, state);
    });
    proxy.on('proxyReqWs', (proxyReq, req, socket) => {
      const state = this.states.get(req);
      if (!state) return;
      socket.once('close', () => {
        if (!state.answered) proxyReq.destroy();
      });
      // Emitted before http-proxy adds its own listeners, so these run first.
      proxyReq.once('upgrade', (proxyRes) => {
        clearTimers(state);
        state.answered = true;
        // SECURITY: as for plain responses, the backend may not set cookies on our origin.
        delete proxyRes.headers['set-cookie'];
        state.upgradeHooks?.onUpgraded();
      });
      proxyReq.once('response', (proxyRes) => {
        clearTimers(state);
        state.answered = true;
        filterResponseHeaders(proxyRes.headers);
      });
      if (proxyReq.socket) this.startTimers(proxyReq, state);
      else proxyReq.once('socket', () => this.startTimers(proxyReq, state));
    });
    proxy.on('proxyRes', (proxyRes, req, res) => {
      const state = this.states.get(req);
      if (state) clearTimers(state);
      filterResponseHeaders(proxyRes.headers);
      res.once('close', () => {
        if (!res.writableFinished) proxyRes.destroy();
      });
    });
    proxy.on('error', (err, req, res) => {
      const state = this.states.get(req);
      const failure =
        state?.failure ?? new BadGatewayError('backend is unreachable or failed', { cause: err });
      if (state && !state.failure) state.failure = failure;
      if (res instanceof ServerResponse) {
        this.fail(req, res, failure);
        return;
      }
      this.finish(req);
      // An upgrade: answer only if the client has been told nothing yet.
      if (state?.upgradeHooks && !state.answered) {
        state.answered = true;
        state.upgradeHooks.onFailure(failure);
      } else (res as Socket).destroy();
    });
    proxy.on('econnreset', (_err, req) => this.finish(req));
  };

  private prepare(
    req: IncomingMessage,
    upstreamPath: string,
    headers: OutgoingHttpHeaders,
    state: ForwardState,
  ): void {
    req.url = upstreamPath;
    // http-proxy copies req.headers onto the upstream request; hand it exactly our set.
    req.headers = headers as IncomingMessage['headers'];
    this.states.set(req, state);
  }

  /** Connect timeout (when a new connection is made) and response timeout. */
  private startTimers(proxyReq: http.ClientRequest, state: ForwardState): void {
    const socket = proxyReq.socket as Socket | null;
    if (socket?.connecting) {
      state.connectTimer = setTimeout(() => {
        state.failure = new GatewayTimeoutError('backend did not accept the connection in time');
        proxyReq.destroy();
      }, this.backend.connectionTimeoutMs);
      socket.once(this.service.url.protocol === 'https:' ? 'secureConnect' : 'connect', () =>
        clearTimeout(state.connectTimer),
      );
    }
    // Like Go's ResponseHeaderTimeout: counted from the end of the request body, so a long
    // upload is not cut while the backend is still reading it.
    proxyReq.once('finish', () => {
      if (state.failure || proxyReq.destroyed) return;
      state.responseTimer = setTimeout(() => {
        state.failure = new GatewayTimeoutError('backend did not respond in time');
        proxyReq.destroy();
      }, this.backend.responseTimeoutMs);
    });
  }

  private fail(req: IncomingMessage, res: ServerResponse, err: ProxyError): void {
    this.finish(req);
    // Mid-stream (headers already sent) the handler cuts the response instead.
    this.onFailure(err, req, res);
  }

  private finish(req: IncomingMessage): void {
    const state = this.states.get(req);
    if (state) clearTimers(state);
  }
}

function clearTimers(state: ForwardState): void {
  clearTimeout(state.connectTimer);
  clearTimeout(state.responseTimer);
}

function createAgent(service: ServiceConfig, backend: BackendConfig): http.Agent {
  const options: http.AgentOptions = {
    keepAlive: true,
    keepAliveMsecs: backend.keepAliveMs,
    maxFreeSockets: backend.maxIdleConnections,
    // Node destroys a *free* socket on this timeout; busy sockets are governed by the
    // per-request timers above.
    timeout: backend.idleConnectionTimeoutMs,
    scheduling: 'lifo',
  };
  if (service.url.protocol !== 'https:') return new http.Agent(options);
  const tls = service.tls;
  return new https.Agent({
    ...options,
    ca: tls?.ca,
    cert: tls?.cert,
    key: tls?.key,
    servername: tls?.serverName,
    rejectUnauthorized: !tls?.insecureSkipVerify,
  });
}
