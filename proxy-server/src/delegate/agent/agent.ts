import http, { IncomingHttpHeaders, OutgoingHttpHeaders } from 'http';
import https from 'https';
import net, { Socket } from 'net';
import os from 'os';
import tls from 'tls';
import { Duplex, PassThrough } from 'stream';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Dispatcher } from 'undici';
import { Pool } from '../../proxy/undici-pool';
import { Logger } from '../../logger';
import { toUndiciHeaders } from '../../proxy/undici-headers';
import {
  toTunnelHeaders,
  TunnelHeaders,
  TunnelSession,
  TunnelStream,
} from '../protocol/tunnel-session';
import {
  AGENT_ID_HEADER,
  AllowedHost,
  CONNECT_PATH,
  CONNECT_TIMEOUT_HEADER,
  DelegateErrorCode,
  ERROR_HEADER,
  isAllowed,
  isConnectionSpecific,
  NAME_HEADER,
  parseTarget,
  UPGRADED_HEADER,
  UPGRADE_HEADER,
  UPGRADE_PROTOCOL,
} from '../protocol/protocol';
import { SecretHeaders } from './secret-headers';
import { proxyFor } from './https-proxy';

export interface AgentOptions {
  /** The sidecar (as the agent reaches it: usually Argo CD's public URL). */
  server: URL;
  name: string;
  /** Read again at every connection attempt, so a rotated token is picked up. */
  readToken: () => string;
  allow: AllowedHost[];
  secretHeaders?: SecretHeaders;
  /** PEM bundle trusted for the sidecar's certificate, besides Node's public CAs. */
  serverCa?: string;
  /** PEM bundle trusted for https backends. */
  backendCa?: string;
  pingIntervalMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  env: NodeJS.ProcessEnv;
  logger: Logger;
}

/** The agent's own metrics (served on its admin port). */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly connected = new Gauge({
    name: 'argocd_extension_proxy_agent_connected',
    help: '1 while the tunnel to the sidecar is up.',
    registers: [this.registry],
  });
  readonly connects = new Counter({
    name: 'argocd_extension_proxy_agent_connects_total',
    help: 'Connection attempts to the sidecar, by result (connected, refused, failed).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly streams = new Gauge({
    name: 'argocd_extension_proxy_agent_streams',
    help: 'Requests being carried now.',
    registers: [this.registry],
  });
  readonly requests = new Counter({
    name: 'argocd_extension_proxy_agent_requests_total',
    help: 'Requests from the sidecar, by result (forwarded, refused, failed).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
}

/**
 * The delegate agent: dials out to the sidecar (see protocol/protocol.ts), answers tunnel
 * streams on that connection, and makes each stream's request inside its own network — only
 * to hosts in its allowlist, with headers from its own secret directory, so those
 * credentials never leave this network. Reconnects with jittered exponential backoff whenever the tunnel
 * drops; pings detect a dead path.
 */
export class DelegateAgent {
  readonly metrics = new AgentMetrics();
  private readonly id = `${os.hostname()}/${process.pid}`;
  private readonly pools = new Map<string, Pool>();
  private readonly backendCa?: string[];
  private session?: TunnelSession;
  private socket?: Duplex;
  private attempt = 0;
  private retryTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;
  private stopped = false;
  private readonly streams = new Set<AgentStream>();

  constructor(private readonly options: AgentOptions) {
    this.backendCa = options.backendCa ? [...tls.rootCertificates, options.backendCa] : undefined;
  }

  get connected(): boolean {
    return this.session !== undefined && !this.session.isClosed;
  }

  start(): void {
    this.connect();
  }

  /** SIGTERM: no new tunnel; requests in flight get up to `timeoutMs` to finish. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    const deadline = Date.now() + timeoutMs;
    this.session?.close();
    while (this.streams.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    this.session?.destroy();
    this.socket?.destroy();
    await Promise.all([...this.pools.values()].map((p) => p.destroy().catch(() => undefined)));
  }

  private connect(): void {
    if (this.stopped) return;
    const { server } = this.options;
    let token: string;
    try {
      token = this.options.readToken();
    } catch (err) {
      return this.retry('cannot read the token file', err);
    }
    openSocket(server, this.options).then(
      (socket) => {
        if (this.stopped) {
          socket.destroy();
          return;
        }
        const base = server.pathname.replace(/\/+$/, '');
        const req = http.request({
          createConnection: () => socket as Socket,
          method: 'GET',
          path: base + CONNECT_PATH,
          headers: {
            host: server.host,
            connection: 'Upgrade',
            upgrade: UPGRADE_PROTOCOL,
            authorization: `Bearer ${token}`,
            [NAME_HEADER]: this.options.name,
            [AGENT_ID_HEADER]: this.id,
          },
        });
        req.setTimeout(30_000, () => req.destroy(new Error('no answer from the sidecar')));
        req.once('upgrade', (_res, upgraded, head) => {
          req.setTimeout(0);
          this.onConnected(upgraded, head);
        });
        req.once('response', (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (body.length < 2048) body += chunk;
          });
          res.once('end', () => {
            let reason = `HTTP ${res.statusCode}`;
            try {
              reason += `: ${(JSON.parse(body) as { error?: string }).error}`;
            } catch {
              /* not our JSON: the status says enough (an Ingress without the route, say) */
            }
            this.metrics.connects.inc({ result: 'refused' });
            if (res.statusCode === 401) reason += ' (check the token and the delegate name)';
            this.retry(`the sidecar refused the tunnel: ${reason}`);
            socket.destroy();
          });
        });
        req.once('error', (err) => {
          this.metrics.connects.inc({ result: 'failed' });
          this.retry('connection to the sidecar failed', err);
        });
        req.end();
      },
      (err) => {
        this.metrics.connects.inc({ result: 'failed' });
        this.retry('cannot reach the sidecar', err);
      },
    );
  }

  private onConnected(socket: Duplex, head: Buffer): void {
    const { logger } = this.options;
    if (head.length > 0) socket.unshift(head);
    socket.once('end', () => socket.destroy());
    socket.on('error', () => socket.destroy());
    // As on the sidecar's end: frames leave at once, never held back by Nagle's algorithm
    // (the socket comes from net.connect or tls.connect, where it is on by default).
    (socket as Duplex & { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    const session = new TunnelSession(socket, {
      role: 'server',
      onStream: (stream, headers, end) => this.onStream(new AgentStream(stream, end), headers),
      onClose: (err) => {
        if (err) logger.warn('tunnel error', { error: err.message });
        clearInterval(this.pingTimer);
        this.metrics.connected.set(0);
        socket.destroy();
        if (this.session === session) this.session = undefined;
        this.retry('tunnel closed');
      },
    });
    this.session = session;
    this.socket = socket;
    this.attempt = 0;
    this.metrics.connects.inc({ result: 'connected' });
    this.metrics.connected.set(1);
    logger.info('connected to the sidecar', {
      server: this.options.server.origin,
      delegate: this.options.name,
    });
    let outstanding = false;
    this.pingTimer = setInterval(() => {
      const session = this.session;
      if (!session) return;
      if (outstanding) {
        logger.warn('tunnel unresponsive; reconnecting');
        return session.destroy();
      }
      outstanding = true;
      session.ping(() => {
        outstanding = false;
      });
    }, this.options.pingIntervalMs);
    this.pingTimer.unref();
  }

  /** Full-jitter exponential backoff: many agents restarting together do not stampede. */
  private retry(reason: string, err?: unknown): void {
    if (this.stopped || this.retryTimer) return;
    const cap = Math.min(
      this.options.reconnectMaxMs,
      this.options.reconnectMinMs * 2 ** this.attempt,
    );
    const delay = Math.round(
      this.options.reconnectMinMs / 2 + Math.random() * (cap - this.options.reconnectMinMs / 2),
    );
    this.attempt = Math.min(this.attempt + 1, 30);
    this.options.logger.warn(reason, {
      error: err instanceof Error ? err.message : undefined,
      retryInMs: delay,
    });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, delay);
  }

  private onStream(stream: AgentStream, h: TunnelHeaders): void {
    const { logger } = this.options;
    const { metrics } = this;
    const started = Date.now();
    this.streams.add(stream);
    metrics.streams.inc();
    stream.onClose(() => {
      this.streams.delete(stream);
      metrics.streams.dec();
    });
    const method = String(h[':method']);
    const path = String(h[':path'] ?? '/');
    const target = parseTarget(h[':scheme'], h[':authority']);
    const refuse = (code: DelegateErrorCode, fields: Record<string, unknown>) => {
      metrics.requests.inc({
        result: code === 'host-not-allowed' || code === 'bad-request' ? 'refused' : 'failed',
      });
      logger.warn('request not forwarded', { reason: code, method, ...fields });
      if (!stream.headersSent && !stream.destroyed) {
        stream.respond({ ':status': 502, [ERROR_HEADER]: code }, true);
      }
    };
    if (!target || !path.startsWith('/')) {
      return refuse('bad-request', { authority: h[':authority'] });
    }
    // SECURITY: the agent is the final authority on what it reaches (SSRF): the sidecar's
    // configuration, or whoever controls it, cannot send it anywhere else.
    if (!isAllowed(this.options.allow, target.host, target.port)) {
      return refuse('host-not-allowed', { host: target.host, port: target.port });
    }
    const upgrade = h[UPGRADE_HEADER] === 'websocket';
    const headers: OutgoingHttpHeaders = {};
    for (const name of Object.keys(h)) {
      if (!isConnectionSpecific(name)) headers[name] = h[name];
    }
    headers.host = target.authority;
    this.options.secretHeaders?.apply(headers, target.host);
    if (upgrade) {
      headers.connection = 'Upgrade';
      headers.upgrade = 'websocket';
    }
    const connectTimeoutMs = clamp(Number(h[CONNECT_TIMEOUT_HEADER]) || 2000, 100, 120_000);
    const log = (status: number) =>
      logger.info('request forwarded', {
        method,
        // SECURITY: the path only; a query string may carry data nobody meant to log.
        target: `${target.scheme}://${target.authority}${path.split('?')[0]}`,
        status,
        durationMs: Date.now() - started,
      });
    const failed = (err: Error & { code?: string }, connectTimedOut: boolean) => {
      if (stream.headersSent) return stream.abort();
      if (stream.destroyed) return;
      refuse(connectTimedOut ? 'connect-timeout' : 'unreachable', {
        host: target.host,
        port: target.port,
        error: err.message,
      });
    };
    if (upgrade)
      return this.forwardUpgrade(
        stream,
        target,
        method,
        path,
        headers,
        connectTimeoutMs,
        log,
        failed,
      );
    // Plain requests: undici's pool (keep-alive, no Node stream per response).
    const pool = this.pool(target, connectTimeoutMs);
    pool.dispatch(
      {
        path,
        method,
        headers: toUndiciHeaders(headers),
        body: stream.body ?? null,
        headersTimeout: 0,
        bodyTimeout: 0,
      },
      new StreamWriter(stream, {
        onResponse: () => metrics.requests.inc({ result: 'forwarded' }),
        onDone: log,
        onError: (err) => failed(err, err.code === 'UND_ERR_CONNECT_TIMEOUT'),
      }),
    );
  }

  /** One undici pool per backend origin (and connect timeout), for the agent's lifetime. */
  private pool(
    target: { scheme: string; host: string; port: number },
    connectTimeoutMs: number,
  ): Pool {
    const key = `${target.scheme}://${target.host}:${target.port}|${connectTimeoutMs}`;
    let pool = this.pools.get(key);
    if (!pool) {
      const host = net.isIPv6(target.host) ? `[${target.host}]` : target.host;
      pool = new Pool(`${target.scheme}://${host}:${target.port}`, {
        connections: null,
        pipelining: 1,
        connectTimeout: connectTimeoutMs,
        keepAliveTimeout: 60_000,
        headersTimeout: 0,
        bodyTimeout: 0,
        connect:
          target.scheme === 'https'
            ? {
                ca: this.backendCa,
                servername: net.isIP(target.host) ? undefined : target.host,
              }
            : {},
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** A WebSocket upgrade: Node's http client, then raw bytes both ways over the stream. */
  private forwardUpgrade(
    stream: AgentStream,
    target: { scheme: 'http' | 'https'; host: string; port: number },
    method: string,
    path: string,
    headers: OutgoingHttpHeaders,
    connectTimeoutMs: number,
    log: (status: number) => void,
    failed: (err: Error, connectTimedOut: boolean) => void,
  ): void {
    const client = target.scheme === 'https' ? https : http;
    const req = client.request({
      host: target.host,
      port: target.port,
      method,
      path,
      headers,
      agent: false,
      servername: net.isIP(target.host) ? undefined : target.host,
      ca: target.scheme === 'https' ? this.backendCa : undefined,
    });
    let connectTimedOut = false;
    req.once('socket', (socket: Socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => {
        connectTimedOut = true;
        req.destroy();
      }, connectTimeoutMs);
      socket.once(target.scheme === 'https' ? 'secureConnect' : 'connect', () =>
        clearTimeout(timer),
      );
      socket.once('close', () => clearTimeout(timer));
    });
    req.once('response', (res) => {
      // The backend refused the upgrade: its answer goes back as a plain response.
      if (stream.destroyed) {
        res.destroy();
        return;
      }
      this.metrics.requests.inc({ result: 'forwarded' });
      stream.respond({ ':status': res.statusCode ?? 502, ...responseHeaders(res.headers) });
      stream.pipeFrom(res);
      res.once('end', () => log(res.statusCode ?? 0));
    });
    req.once('upgrade', (res, socket, head) => {
      if (stream.destroyed) {
        socket.destroy();
        return;
      }
      this.metrics.requests.inc({ result: 'forwarded' });
      stream.respond({ ':status': 200, [UPGRADED_HEADER]: '101', ...responseHeaders(res.headers) });
      if (head.length > 0) stream.write(head);
      stream.pipeFrom(socket);
      stream.body?.pipe(socket);
      socket.on('error', () => stream.abort());
      stream.onClose(() => socket.destroy());
      log(101);
    });
    req.once('error', (err) => failed(err, connectTimedOut));
    stream.onClose(() => {
      if (!req.destroyed && !(req as { res?: http.IncomingMessage }).res) req.destroy();
    });
    req.end();
  }
}

/**
 * Streams one backend response into the tunnel stream (undici's dispatch handler):
 * backpressure from the tunnel pauses the backend connection; a response cut short resets
 * the stream (never a clean end); the sidecar cancelling the stream aborts the request.
 */
class StreamWriter implements Dispatcher.DispatchHandler {
  private abortUpstream?: (err: Error) => void;
  private status = 0;
  private done = false;

  constructor(
    private readonly stream: AgentStream,
    private readonly hooks: {
      onResponse: () => void;
      onDone: (status: number) => void;
      onError: (err: Error & { code?: string }) => void;
    },
  ) {
    stream.onClose(() => {
      if (!this.done) this.abortUpstream?.(new Error('cancelled by the sidecar'));
    });
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.stream.destroyed) abort(new Error('cancelled by the sidecar'));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (this.stream.destroyed) return false;
    this.status = statusCode;
    this.hooks.onResponse();
    this.stream.respond({ ':status': statusCode, ...rawResponseHeaders(rawHeaders) });
    this.stream.onDrain(resume);
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.stream.write(chunk);
  }

  onComplete(): void {
    this.done = true;
    this.stream.end();
    this.hooks.onDone(this.status);
  }

  onError(err: Error): void {
    this.done = true;
    this.hooks.onError(err);
  }
}

/**
 * The agent's view of one tunnel stream: the request body as a Readable (for undici or a
 * WebSocket), the response written back with credit-based backpressure.
 */
class AgentStream {
  headersSent = false;
  destroyed = false;
  /** The request body, unless the request had none. */
  readonly body?: PassThrough;
  private readonly closeHandlers: Array<() => void> = [];
  private readonly drainHandlers: Array<() => void> = [];

  constructor(
    private readonly stream: TunnelStream,
    requestEnded: boolean,
  ) {
    if (!requestEnded) this.body = new PassThrough();
    stream.events = {
      onData: (chunk, end) => {
        const body = this.body;
        if (!body || body.destroyed) return;
        stream.handOn(chunk, body);
        if (end) body.end();
      },
      onReset: () => {
        this.destroyed = true;
        this.body?.destroy(new Error('cancelled by the sidecar'));
      },
      onDrain: () => {
        for (const handler of this.drainHandlers) handler();
      },
      onClose: () => {
        this.destroyed = true;
        for (const handler of this.closeHandlers) handler();
      },
    };
  }

  respond(headers: OutgoingHttpHeaders, end = false): void {
    this.headersSent = true;
    this.stream.sendHeaders(toTunnelHeaders(headers), end);
  }

  write(chunk: Buffer): boolean {
    return this.stream.write(chunk);
  }

  end(): void {
    this.stream.end();
  }

  /** Breaks the response off: the sidecar sees a reset, never a clean end. */
  abort(): void {
    this.destroyed = true;
    this.stream.reset();
  }

  onClose(handler: () => void): void {
    if (this.destroyed) handler();
    else this.closeHandlers.push(handler);
  }

  onDrain(handler: () => void): void {
    this.drainHandlers.push(handler);
  }

  /** Streams a Node readable into the response, with backpressure; a cut source resets. */
  pipeFrom(source: NodeJS.ReadableStream & { destroy?: () => void }): void {
    this.stream.writeFrom(source);
    source.once('error', () => this.abort());
    source.once('close', () => {
      if (!this.destroyed && !(source as { readableEnded?: boolean }).readableEnded) this.abort();
    });
  }
}

/** undici's raw response headers as a header object (see responseHeaders). */
function rawResponseHeaders(raw: Buffer[]): OutgoingHttpHeaders {
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
function responseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
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

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/**
 * A connected socket to the sidecar: direct, or through the HTTPS_PROXY/HTTP_PROXY (CONNECT)
 * that applies to it; TLS for an https server (verified, ALPN http/1.1).
 */
async function openSocket(server: URL, options: AgentOptions): Promise<Duplex> {
  const port = Number(server.port) || (server.protocol === 'https:' ? 443 : 80);
  const host = server.hostname.replace(/^\[|\]$/g, '');
  const proxy = proxyFor(server, options.env);
  let raw: Socket;
  if (proxy) raw = await connectThroughProxy(proxy, host, port);
  else raw = await connectTcp(host, port);
  if (server.protocol !== 'https:') return raw;
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket: raw,
      servername: net.isIP(host) ? undefined : host,
      ca: options.serverCa ? [...tls.rootCertificates, options.serverCa] : undefined,
      ALPNProtocols: ['http/1.1'],
    });
    secure.once('secureConnect', () => {
      secure.off('error', reject);
      resolve(secure);
    });
    secure.once('error', reject);
  });
}

function connectTcp(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), 10_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function connectThroughProxy(proxy: URL, host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const target = `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
    const headers: OutgoingHttpHeaders = { host: target };
    if (proxy.username) {
      const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
      headers['proxy-authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
    }
    const req = http.request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: Number(proxy.port) || 80,
      method: 'CONNECT',
      path: target,
      headers,
      timeout: 10_000,
    });
    req.once('connect', (res, socket, head) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        return reject(new Error(`proxy answered ${res.statusCode} to CONNECT`));
      }
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.once('timeout', () => req.destroy(new Error('proxy did not answer in time')));
    req.once('error', reject);
    req.end();
  });
}
