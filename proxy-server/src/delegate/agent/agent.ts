import http from 'http';
import { Socket } from 'net';
import os from 'os';
import tls from 'tls';
import { Duplex } from 'stream';
import { Logger } from '../../logger';
import { TunnelSession } from '../protocol/tunnel-session';
import { AGENT_ID_HEADER, CONNECT_PATH, NAME_HEADER, UPGRADE_PROTOCOL } from '../protocol/protocol';
import { AgentMetrics } from './agent-metrics';
import { AgentStream } from './agent-stream';
import { AllowedHost } from './allowlist';
import { dialSidecar } from './dial-sidecar';
import { SecretHeaders } from './secret-headers';
import { StreamForwarder } from './stream-forwarder';

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

/**
 * The delegate agent: dials out to the sidecar (see protocol/protocol.ts) and keeps that
 * tunnel up — reconnecting with jittered exponential backoff whenever it drops, pings
 * detecting a dead path — while StreamForwarder answers its streams inside this network: only
 * to hosts in the allowlist, with headers from the agent's own secret directory, so those
 * credentials never leave this network.
 */
export class DelegateAgent {
  readonly metrics = new AgentMetrics();
  private readonly id = `${os.hostname()}/${process.pid}`;
  private readonly forwarder: StreamForwarder;
  private session?: TunnelSession;
  private socket?: Duplex;
  private attempt = 0;
  private retryTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly options: AgentOptions) {
    this.forwarder = new StreamForwarder({
      allow: options.allow,
      secretHeaders: options.secretHeaders,
      backendCa: options.backendCa ? [...tls.rootCertificates, options.backendCa] : undefined,
      logger: options.logger,
      metrics: this.metrics,
    });
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
    while (this.forwarder.active > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    this.session?.destroy();
    this.socket?.destroy();
    await this.forwarder.close();
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
    dialSidecar(server, this.options).then(
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
      onStream: (stream, headers, end) =>
        this.forwarder.forward(new AgentStream(stream, end), headers),
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
}
