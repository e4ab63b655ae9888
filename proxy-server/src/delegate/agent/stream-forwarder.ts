import { OutgoingHttpHeaders } from 'http';
import net from 'net';
import { Logger } from '../../logger';
import { toUndiciHeaders } from '../../proxy/undici-headers';
import { Pool } from '../../proxy/undici-pool';
import {
  CONNECT_TIMEOUT_HEADER,
  DelegateErrorCode,
  ERROR_HEADER,
  isConnectionSpecific,
  UPGRADE_HEADER,
} from '../protocol/protocol';
import { TunnelHeaders } from '../protocol/tunnel-session';
import { AgentMetrics } from './agent-metrics';
import { AgentStream } from './agent-stream';
import { AllowedHost, isAllowed, parseTarget } from './allowlist';
import { SecretHeaders } from './secret-headers';
import { StreamWriter } from './stream-writer';
import { forwardWebSocket } from './websocket-forwarder';

export interface StreamForwarderOptions {
  allow: AllowedHost[];
  secretHeaders?: SecretHeaders;
  /** Trusted for https backends (Node's public CAs and `--backend-ca`); undefined: the former. */
  backendCa?: string[];
  logger: Logger;
  metrics: AgentMetrics;
}

/**
 * The agent's side of each tunnel stream: checks the target against the allowlist, builds
 * the backend request (no control or hop-by-hop headers, the secret headers added) and
 * makes it inside this network — plain requests through an undici pool per backend
 * origin, WebSocket upgrades through forwardWebSocket — or answers 502 with the reason in
 * the error control header.
 */
export class StreamForwarder {
  private readonly pools = new Map<string, Pool>();
  private readonly streams = new Set<AgentStream>();

  constructor(private readonly options: StreamForwarderOptions) {}

  /** Streams being carried now (the agent's SIGTERM waits for them). */
  get active(): number {
    return this.streams.size;
  }

  forward(stream: AgentStream, h: TunnelHeaders): void {
    const { logger, metrics } = this.options;
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
      return forwardWebSocket(
        stream,
        { target, method, path, headers, connectTimeoutMs, ca: this.options.backendCa },
        { forwarded: () => metrics.requests.inc({ result: 'forwarded' }), log, failed },
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

  /** Destroys every backend connection (the agent's shutdown, once streams are done). */
  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.destroy().catch(() => undefined)));
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
                ca: this.options.backendCa,
                servername: net.isIP(target.host) ? undefined : target.host,
              }
            : {},
      });
      this.pools.set(key, pool);
    }
    return pool;
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
