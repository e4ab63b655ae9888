import http, { IncomingMessage, OutgoingHttpHeaders } from 'http';
import https from 'https';
import { Socket } from 'net';
import { Duplex } from 'stream';
import { createProxyMiddleware, Plugin, RequestHandler } from 'http-proxy-middleware';
import { BackendConfig, ServiceConfig } from '../config/types';
import { BadGatewayError, GatewayTimeoutError, ProxyError } from '../errors';
import { TlsOptions } from './backend-tls';
import { UpgradeHooks } from './forwarder';
import { filterResponseHeaders } from './upstream-headers';

interface ForwardState {
  responseTimer?: NodeJS.Timeout;
  connectTimer?: NodeJS.Timeout;
  failure?: ProxyError;
  upgradeHooks?: UpgradeHooks;
  /** The client has been sent something (a 101 or the backend's own refusal). */
  answered?: boolean;
}

/**
 * WebSocket upgrades to one backend service, through http-proxy-middleware over a
 * keep-alive agent (plain requests take RequestForwarder's undici pools, which do not
 * splice upgraded sockets). Before the backend answers 101, the service's connect and
 * response timeouts apply; after it, bytes flow both ways untouched.
 */
export class UpgradeForwarder {
  private readonly agent: http.Agent;
  private readonly middleware: RequestHandler;
  private readonly states = new WeakMap<IncomingMessage, ForwardState>();

  constructor(
    private readonly service: ServiceConfig,
    private readonly backend: BackendConfig,
    tlsOptions: TlsOptions,
  ) {
    this.agent = createAgent(service, backend, tlsOptions);
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

  /**
   * Forwards a WebSocket upgrade: once the backend answers 101 the two sockets are spliced
   * and bytes flow both ways untouched. Before that, the same connect and response
   * timeouts apply, and a failure is reported through `hooks.onFailure`.
   */
  forward(
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

  /** Idle connections close now, busy ones as soon as their upgrade ends. */
  retire(): void {
    this.agent.on('free', (socket: Socket) => socket.destroy());
    for (const sockets of Object.values(this.agent.freeSockets)) {
      for (const socket of sockets ?? []) socket.destroy();
    }
  }

  /** WebSocket upgrades only: plain requests never reach http-proxy. */
  private readonly eventsPlugin: Plugin = (proxy) => {
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
    proxy.on('error', (err, req, res) => {
      const state = this.states.get(req);
      const failure =
        state?.failure ?? new BadGatewayError('backend is unreachable or failed', { cause: err });
      if (state && !state.failure) state.failure = failure;
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

  private finish(req: IncomingMessage): void {
    const state = this.states.get(req);
    if (state) clearTimers(state);
  }
}

function clearTimers(state: ForwardState): void {
  clearTimeout(state.connectTimer);
  clearTimeout(state.responseTimer);
}

function createAgent(
  service: ServiceConfig,
  backend: BackendConfig,
  tlsOptions: TlsOptions,
): http.Agent {
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
  return new https.Agent({ ...options, ...tlsOptions });
}
