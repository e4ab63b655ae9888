import http, { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'http';
import { Duplex } from 'stream';
import { DELEGATE_NAME } from '../../config/extension-config-sidecar';
import {
  AuthenticationError,
  describeError,
  InputError,
  ProxyError,
  toErrorResponse,
} from '../../errors';
import { Logger } from '../../logger';
import { ProxyMetrics } from '../../metrics';
import { writeErrorToSocket } from '../../proxy/socket-error';
import { DelegateForwarder } from './delegate-forwarder';
import { DelegateHub } from './hub';
import { NonceCache, RelayedRequest, verifyRelay } from './relay-signature';

export interface RelayServerOptions {
  hub: DelegateHub;
  metrics: ProxyMetrics;
  logger: Logger;
  /** The relay key of the configuration in force (derived from server.secretkey). */
  key: () => Buffer;
}

/**
 * The relay listener (`--peer-listen`): other replicas hand it requests for delegates whose
 * tunnel is here. Every request must carry a valid signature (relay-signature.ts); it was
 * authenticated, authorized and rewritten by the replica that received it, so here it only
 * goes down the local tunnel. Never relayed again: a registry that is briefly stale gets a
 * 503, not a loop.
 */
export function createRelayServer(options: RelayServerOptions): http.Server {
  const nonces = new NonceCache();
  const { logger, metrics } = options;
  const check = (req: IncomingMessage): { relayed: RelayedRequest; url: URL } => {
    const path = req.url ?? '';
    const result = verifyRelay(options.key(), req.method ?? '', path, req.headers, nonces);
    if (!result.ok) {
      metrics.delegateRelays.inc({ direction: 'in', result: 'refused' });
      logger.warn('relayed request refused', {
        reason: result.reason,
        remote: req.socket.remoteAddress,
      });
      throw new AuthenticationError('relay signature invalid');
    }
    const { relayed } = result;
    let url: URL | undefined;
    try {
      url = new URL(relayed.target);
    } catch {
      url = undefined;
    }
    if (
      !url ||
      (url.protocol !== 'http:' && url.protocol !== 'https:') ||
      url.origin !== relayed.target ||
      !DELEGATE_NAME.test(relayed.delegate) ||
      !(relayed.connectTimeoutMs > 0) ||
      !(relayed.responseTimeoutMs > 0)
    ) {
      throw new InputError('malformed relayed request');
    }
    metrics.delegateRelays.inc({ direction: 'in', result: 'forwarded' });
    return { relayed, url };
  };
  const forwarder = (
    relayed: RelayedRequest,
    url: URL,
    onFailure: (err: ProxyError) => void,
  ): DelegateForwarder =>
    new DelegateForwarder(
      { url, headers: [], delegate: relayed.delegate },
      {
        connectionTimeoutMs: relayed.connectTimeoutMs,
        responseTimeoutMs: relayed.responseTimeoutMs,
        keepAliveMs: 0,
        idleConnectionTimeoutMs: 0,
        maxIdleConnections: 0,
        services: [],
        // Limits, rate limits and retries were applied by the replica that relayed it.
        limits: {},
        rateLimit: {},
        retries: { attempts: 0, budgetPercent: 0 },
      },
      options.hub,
      metrics,
      onFailure,
    );
  const server = http.createServer({ maxHeaderSize: 96 * 1024 }, (req, res) => {
    const fail = (err: unknown) => respond(req, res, err, logger);
    try {
      const { relayed, url } = check(req);
      forwarder(relayed, url, fail).forward(
        req,
        res,
        req.url ?? '/',
        req.headers as OutgoingHttpHeaders,
      );
    } catch (err) {
      fail(err);
    }
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const fail = (err: unknown) => writeErrorToSocket(socket, err);
    try {
      const { relayed, url } = check(req);
      forwarder(relayed, url, fail).forwardUpgrade(
        req,
        socket,
        head,
        req.url ?? '/',
        req.headers as OutgoingHttpHeaders,
        { onUpgraded: () => undefined, onFailure: fail },
      );
    } catch (err) {
      fail(err);
    }
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 0;
  return server;
}

function respond(req: IncomingMessage, res: ServerResponse, err: unknown, logger: Logger): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = toErrorResponse(err);
  if (body.status >= 500) logger.warn('relayed request failed', { error: describeError(err) });
  const payload = JSON.stringify(body);
  res.writeHead(body.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  });
  res.end(payload);
  if (!req.complete) req.resume();
}
