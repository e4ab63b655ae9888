import { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'http';
import { Duplex } from 'stream';
import { BackendConfig, ServiceConfig } from '../config/types';
import { createTlsOptions } from './backend-tls';
import { ForwardFailure, Forwarder, ForwardObserver, UpgradeHooks } from './forwarder';
import { RequestForwarder } from './request-forwarder';
import { UpgradeForwarder } from './upgrade-forwarder';

/**
 * Step 8: forwards requests to one backend service directly. Two HTTP stacks, each where it
 * is best: plain requests go through undici connection pools (RequestForwarder, the hot
 * path), WebSocket upgrades through http-proxy-middleware over a keep-alive agent
 * (UpgradeForwarder). Both honour the extension's backend settings and share one TLS
 * context. Bodies stream both ways (nothing is buffered); timeouts and aborts are enforced
 * per request:
 * - connection not established within `connectionTimeout` → 504;
 * - no response headers within `responseTimeout` of the request body's end → 504;
 * - refused, reset, DNS or TLS failure → 502;
 * - the client goes away → the upstream request is aborted at once.
 */
export class ServiceForwarder implements Forwarder {
  private readonly requests: RequestForwarder;
  private readonly upgrades: UpgradeForwarder;

  constructor(
    service: ServiceConfig,
    backend: BackendConfig,
    onFailure: ForwardFailure,
    observer: ForwardObserver = {},
  ) {
    const tlsOptions = createTlsOptions(service);
    this.requests = new RequestForwarder(service, backend, tlsOptions, onFailure, observer);
    this.upgrades = new UpgradeForwarder(service, backend, tlsOptions);
  }

  forward(
    req: IncomingMessage,
    res: ServerResponse,
    upstreamPath: string,
    headers: OutgoingHttpHeaders,
  ): void {
    this.requests.forward(req, res, upstreamPath, headers);
  }

  forwardUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    upstreamPath: string,
    headers: OutgoingHttpHeaders,
    hooks: UpgradeHooks,
  ): void {
    this.upgrades.forward(req, socket, head, upstreamPath, headers, hooks);
  }

  /** Destroys every connection at once (shutdown). */
  close(): void {
    this.requests.close();
    this.upgrades.close();
  }

  /**
   * Replaced by a new configuration: idle connections close now, busy ones as soon as their
   * request ends, so in-flight requests (long streams too) are never cut.
   */
  retire(): void {
    this.requests.retire();
    this.upgrades.retire();
  }
}
