import http, { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'http';
import https from 'https';
import { Socket } from 'net';
import tls from 'tls';
import { Duplex, Readable } from 'stream';
import { createProxyMiddleware, Plugin, RequestHandler } from 'http-proxy-middleware';
import type { Dispatcher } from 'undici';
import { Pool } from './undici-pool';
import { BackendConfig, ServiceConfig } from '../config/types';
import {
  BadGatewayError,
  GatewayTimeoutError,
  PayloadTooLargeError,
  ProxyError,
  ServiceUnavailableError,
} from '../errors';
import { CircuitBreaker, CircuitState, RetryBudget } from './backend-health';
import { BodyLimit } from './limits';
import { filterRawResponseHeaders, filterResponseHeaders } from './upstream-headers';

/** What happened to a forwarded request that did not get a response. */
export type ForwardFailure = (err: ProxyError, req: IncomingMessage, res: ServerResponse) => void;

/** What the pipeline learns about a forwarded WebSocket upgrade. */
export interface UpgradeHooks {
  /** The backend answered 101: the sockets are spliced. */
  onUpgraded: () => void;
  /** Nothing was sent to the client yet: answer with this error. */
  onFailure: (err: ProxyError) => void;
}

/** Step 8 for one service: directly ({@link ServiceForwarder}) or through a delegate agent. */
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

interface Target {
  url: URL;
  /** The Host header for this URL; undefined for the primary (the pipeline's stays). */
  host?: string;
  pool: Pool;
  breaker?: CircuitBreaker;
}

/** Methods RFC 9110 calls idempotent: safe to send again when the first never arrived. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

function isIdempotent(method: string | undefined): boolean {
  return IDEMPOTENT.has(method ?? 'GET');
}

/**
 * Failures before any response byte where sending an idempotent request again is safe
 * (RFC 9110 §9.2.2): no connection was made, or the connection was reset (a keep-alive
 * connection the backend had just closed, typically).
 */
const CONNECT_FAILURES = new Set([
  'ECONNRESET',
  'UND_ERR_SOCKET',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

function isConnectFailure(err: Error): boolean {
  return CONNECT_FAILURES.has((err as { code?: string }).code ?? '');
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
 * Step 8: forwards requests to one backend service. Plain requests go through an undici
 * connection pool (the hot path: undici's dispatcher parses responses without building
 * Node streams for them, which costs fewer instructions per request than Node's http
 * client: docs/performance.md, "npm run bench:instructions"); WebSocket upgrades go
 * through http-proxy-middleware over a keep-alive agent. Both honour the extension's backend settings. Bodies stream both
 * ways (nothing is buffered); timeouts and aborts are enforced per request:
 * - connection not established within `connectionTimeout` → 504;
 * - no response headers within `responseTimeout` of the request body's end → 504;
 * - refused, reset, DNS or TLS failure → 502;
 * - the client goes away → the upstream request is aborted at once.
 */
export class ServiceForwarder implements Forwarder {
  /** `url`, then each of `failoverUrls`, in order. */
  private readonly targets: Target[];
  private readonly agent: http.Agent;
  private readonly middleware: RequestHandler;
  private readonly states = new WeakMap<IncomingMessage, ForwardState>();
  private readonly budget: RetryBudget;
  private inflight = 0;

  constructor(
    private readonly service: ServiceConfig,
    private readonly backend: BackendConfig,
    private readonly onFailure: ForwardFailure,
    private readonly observer: ForwardObserver = {},
  ) {
    const tlsOptions = createTlsOptions(service);
    this.targets = [service.url, ...(service.failoverUrls ?? [])].map((url, i) => {
      const breakerConfig = backend.circuitBreaker;
      return {
        url,
        // The primary keeps the Host header the pipeline set; others get their own.
        host: i === 0 ? undefined : url.host,
        pool: createPool(url, backend, tlsOptions),
        breaker: breakerConfig
          ? new CircuitBreaker(breakerConfig, (state) => observer.circuit?.(url, state))
          : undefined,
      };
    });
    this.budget = new RetryBudget(backend.retries.budgetPercent);
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
   * Forwards `req` to `upstreamPath` (path and query) on this service with `headers`:
   * on the first URL whose circuit lets it through; an idempotent request without a body
   * whose connection failed before anything was sent is retried (on the next URL when
   * there is one) while the retry budget allows.
   */
  forward(
    req: IncomingMessage,
    res: ServerResponse,
    upstreamPath: string,
    headers: OutgoingHttpHeaders,
  ): void {
    const { limits } = this.backend;
    if (limits.maxConcurrentRequests !== undefined) {
      if (this.inflight >= limits.maxConcurrentRequests) {
        this.observer.limited?.('concurrency');
        return this.onFailure(
          new ServiceUnavailableError('backend is at its concurrency limit', {
            headers: { 'retry-after': '1' },
          }),
          req,
          res,
        );
      }
      this.inflight++;
      res.once('close', () => this.inflight--);
    }
    this.budget.earn();
    let body: Readable | null = null;
    if (hasRequestBody(req)) {
      const max = limits.maxRequestBodyBytes;
      // A declared length was checked already; a chunked body is counted as it streams.
      body =
        max !== undefined && req.headers['content-length'] === undefined
          ? req.pipe(new BodyLimit(max))
          : req;
    }
    this.attempt(req, res, upstreamPath, headers, body, 0, 0);
  }

  private attempt(
    req: IncomingMessage,
    res: ServerResponse,
    upstreamPath: string,
    headers: OutgoingHttpHeaders,
    body: Readable | null,
    retry: number,
    from: number,
  ): void {
    // The first URL (from `from`, wrapping around) whose circuit lets a request through.
    let target: Target | undefined;
    for (let i = 0; i < this.targets.length && !target; i++) {
      const candidate = this.targets[(from + i) % this.targets.length];
      if (!candidate.breaker || candidate.breaker.allow()) target = candidate;
    }
    if (!target) {
      return this.onFailure(
        new ServiceUnavailableError('backend is unavailable (its circuit is open)', {
          headers: {
            'retry-after': String(
              Math.ceil((this.backend.circuitBreaker?.openForMs ?? 1000) / 1000),
            ),
          },
        }),
        req,
        res,
      );
    }
    const chosen = target;
    const index = this.targets.indexOf(chosen);
    chosen.pool.dispatch(
      {
        path: upstreamPath,
        method: req.method ?? 'GET',
        headers: toUndiciHeaders(headers, chosen.host),
        body,
        // Timeouts are ours (below): undici's header timer also runs while a slow backend
        // is still reading a long upload.
        headersTimeout: 0,
        bodyTimeout: 0,
      },
      new ResponseWriter(req, res, this.backend.responseTimeoutMs, {
        answered: (status) => {
          if (status === 502 || status === 503 || status === 504) chosen.breaker?.failure();
          else chosen.breaker?.success();
        },
        failed: (err, cause) => {
          if (cause instanceof PayloadTooLargeError) {
            // The client's fault, not the backend's: no circuit failure, no retry.
            this.observer.limited?.('body');
            return this.onFailure(err, req, res);
          }
          chosen.breaker?.failure();
          if (
            body === null &&
            retry < this.backend.retries.attempts &&
            isIdempotent(req.method) &&
            isConnectFailure(cause) &&
            !res.destroyed &&
            this.budget.spend()
          ) {
            this.observer.retried?.();
            return this.attempt(req, res, upstreamPath, headers, body, retry + 1, index + 1);
          }
          this.onFailure(err, req, res);
        },
      }),
    );
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
    for (const target of this.targets) void target.pool.destroy().catch(() => undefined);
    this.agent.destroy();
  }

  /**
   * Replaced by a new configuration: idle connections close now, busy ones as soon as their
   * request ends, so in-flight requests (long streams too) are never cut.
   */
  retire(): void {
    // undici: close() waits for in-flight requests, then closes every connection.
    for (const target of this.targets) void target.pool.close().catch(() => undefined);
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

/** The TLS side of a connection to the service's URLs: ALPN, SNI and verification aside. */
type TlsOptions = Pick<
  tls.ConnectionOptions,
  'secureContext' | 'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized'
>;

/**
 * One secure context per service (its CA, client certificate and key, parsed once), shared
 * by the undici pools of every URL and the WebSocket agent; without it, Node parses them
 * again for each new connection.
 */
function createTlsOptions(service: ServiceConfig): TlsOptions {
  const config = service.tls;
  const pem = { ca: config?.ca, cert: config?.cert, key: config?.key };
  const verify = {
    servername: config?.serverName,
    rejectUnauthorized: !config?.insecureSkipVerify,
  };
  try {
    return { secureContext: tls.createSecureContext(pem), ...verify };
  } catch {
    // A CA, certificate or key Node cannot load fails each connection (a 502 that says why),
    // as it would without the shared context, rather than the whole configuration.
    return { ...pem, ...verify };
  }
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

/**
 * Streams one backend response to the client (undici's dispatch handler). Response
 * headers are filtered like {@link filterResponseHeaders}; backpressure from a slow client
 * pauses the backend connection; a client that goes away aborts the backend request.
 */
class ResponseWriter implements Dispatcher.DispatchHandler {
  private abortUpstream?: (err: Error) => void;
  private responseTimer?: NodeJS.Timeout;
  /** Why we aborted the upstream request ourselves (a timeout), or the client left. */
  private reason?: ProxyError | 'client-gone';
  private done = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly responseTimeoutMs: number,
    private readonly outcome: {
      /** The backend answered with this status. */
      answered: (status: number) => void;
      /** No response: the client's error, and what undici reported. */
      failed: (err: ProxyError, cause: Error) => void;
    },
  ) {
    res.on('close', this.onClientClose);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    // The client may have left while the request waited for a connection.
    if (this.res.destroyed && !this.res.writableFinished) this.abort('client-gone');
  }

  /**
   * Like Go's ResponseHeaderTimeout: counted from the end of the request body, so a long
   * upload is not cut while the backend is still reading it.
   */
  onRequestSent(): void {
    if (this.done || this.reason) return;
    this.responseTimer = setTimeout(
      () => this.abort(new GatewayTimeoutError('backend did not respond in time')),
      this.responseTimeoutMs,
    );
  }

  onHeaders(
    statusCode: number,
    rawHeaders: Buffer[],
    resume: () => void,
    statusText: string,
  ): boolean {
    clearTimeout(this.responseTimer);
    this.outcome.answered(statusCode);
    if (this.res.destroyed) return false;
    const headers = filterRawResponseHeaders(rawHeaders);
    this.res.writeHead(statusCode, statusText || undefined, headers);
    this.res.on('drain', resume);
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.res.write(chunk);
  }

  onComplete(): void {
    this.done = true;
    this.res.end();
    // An unread request body (the backend answered early) must not hold the connection.
    if (!this.req.complete) this.req.resume();
  }

  onError(err: Error): void {
    this.done = true;
    clearTimeout(this.responseTimer);
    if (this.reason === 'client-gone') return;
    const failure =
      this.reason ??
      (err instanceof ProxyError
        ? err // a body limit
        : (err as { code?: string }).code === 'UND_ERR_CONNECT_TIMEOUT'
          ? new GatewayTimeoutError('backend did not accept the connection in time', {
              cause: err,
            })
          : new BadGatewayError('backend is unreachable or failed', { cause: err }));
    // Mid-stream (headers already sent) the pipeline cuts the response instead.
    this.outcome.failed(failure, err);
  }

  private readonly onClientClose = (): void => {
    if (!this.res.writableFinished && !this.done) this.abort('client-gone');
  };

  private abort(reason: ProxyError | 'client-gone'): void {
    if (this.reason || this.done) return;
    this.reason = reason;
    clearTimeout(this.responseTimer);
    const err = reason === 'client-gone' ? new Error('client went away') : reason;
    this.abortUpstream?.(err);
  }
}

/** A request has a body when it says so: a Content-Length above 0, or chunked framing. */
export function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/**
 * buildUpstreamHeaders' set as undici takes it (a flat name/value list). Transfer-Encoding
 * is left out: undici frames a body of unknown length as chunked itself (and refuses the
 * header); Content-Length is kept, and undici refuses to send more or fewer bytes.
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

/** undici's connection pool for plain requests to one URL, with the backend settings. */
function createPool(url: URL, backend: BackendConfig, tlsOptions: TlsOptions): Pool {
  return new Pool(url.origin, {
    // No cap on concurrent connections (like Go's Transport without MaxConnsPerHost):
    // long streams must not queue short requests. Idle ones close after the idle timeout.
    connections: null,
    pipelining: 1,
    connectTimeout: backend.connectionTimeoutMs,
    keepAliveTimeout: backend.idleConnectionTimeoutMs,
    keepAliveMaxTimeout: backend.idleConnectionTimeoutMs,
    headersTimeout: 0,
    bodyTimeout: 0,
    strictContentLength: true,
    connect: {
      keepAlive: true,
      keepAliveInitialDelay: backend.keepAliveMs,
      ...(url.protocol === 'https:' ? tlsOptions : {}),
    },
  });
}
