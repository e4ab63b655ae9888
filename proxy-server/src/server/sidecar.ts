import http from 'http';
import { AddressInfo } from 'net';
import { Duplex } from 'stream';
import { ArgoCDApplicationClient } from '../argocd/application-lookup';
import { ArgoCDDestinationCheck } from '../argocd/project-lookup';
import { ConfigSources } from '../config/settings';
import { Logger } from '../logger';
import { ProxyMetrics } from '../metrics';
import { createAdminServer } from './admin-server';
import { ConfigManager } from './config-manager';
import { DelegateHub } from '../delegate/sidecar/hub';
import { CONNECT_PATH } from '../delegate/protocol/protocol';
import { createRelayServer } from '../delegate/sidecar/relay-server';
import { ReplicaRegistry } from '../delegate/sidecar/replica-registry';
import { RequestPipeline } from './pipeline';
import { hasRequestBody } from '../proxy/forwarder';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface SidecarOptions {
  listen: ListenAddress;
  adminListen: ListenAddress;
  sources: ConfigSources;
  argocdServer: string;
  argocdServerCaFile?: string;
  argocdServerInsecure: boolean;
  /**
   * The API token of the extension proxy's Argo CD account (`projects, get`, `clusters, get`)
   * for the destination check. Without it, every request that reaches that check gets 503.
   */
  argocdTokenFile?: string;
  dexServer: string;
  /** Argocd-Namespace sent to backends. */
  namespace: string;
  /**
   * Argo CD's `server.rootpath`, normalised (normalizeRootPath: `''` or `/argocd`): extension
   * requests and delegate tunnels arrive under it. Default: none.
   */
  rootPath?: string;
  reloadIntervalMs: number;
  applicationCacheTtlMs: number;
  shutdownTimeoutMs: number;
  /**
   * Keep running when the configuration is invalid at start (503 until it is fixed)
   * instead of exiting. Default: false.
   */
  waitForValidConfig?: boolean;
  /** How long a request body may pause before the request is cut. Default: 60s; 0 = never. */
  bodyIdleTimeoutMs?: number;
  /** How long a client may take to send its request headers. Default: 30s. */
  headersTimeoutMs?: number;
  /** How often delegate tunnels are pinged (an unanswered ping closes one). Default: 15s. */
  delegatePingIntervalMs?: number;
  /**
   * Replicas share their delegate tunnels: the registry in Argo CD's Redis, and the relay
   * listener other replicas reach at `advertise`. Without it each replica serves only the
   * agents connected to it.
   */
  replicas?: {
    redis: string;
    redisPassword?: string;
    peerListen: ListenAddress;
    advertise: string;
  };
  logger: Logger;
}

/**
 * Authenticated session tokens can reach ~80 KiB as chunked cookies (20 parts of ~4 KiB,
 * Argo CD's util/http), beyond Node's 16 KiB default header limit.
 */
const MAX_HEADER_BYTES = 96 * 1024;

/** The `serve` command: the extension listener, the admin listener and their shared state. */
export class Sidecar {
  private readonly metrics = new ProxyMetrics();
  private readonly config: ConfigManager;
  private readonly applications: ArgoCDApplicationClient;
  private readonly destinations: ArgoCDDestinationCheck;
  private readonly delegates: DelegateHub;
  private readonly registry?: ReplicaRegistry;
  private readonly relayServer?: http.Server;
  private readonly server: http.Server;
  private readonly admin: http.Server;
  private draining = false;
  /** The request path; it also counts the plain requests in flight (drained on shutdown). */
  private readonly pipeline: RequestPipeline;
  /** WebSocket connections: no longer tracked by the HTTP server once upgraded. */
  private readonly upgraded = new Set<Duplex>();

  constructor(private readonly options: SidecarOptions) {
    const { logger } = options;
    this.applications = new ArgoCDApplicationClient({
      baseUrl: options.argocdServer,
      caFile: options.argocdServerCaFile,
      insecureSkipVerify: options.argocdServerInsecure,
      cacheTtlMs: options.applicationCacheTtlMs,
      onCacheResult: (hit) => this.metrics.recordCacheLookup('application', hit),
    });
    // The same TTL as the application check: no staleness beyond what that check has.
    this.destinations = new ArgoCDDestinationCheck({
      api: this.applications.api,
      tokenFile: options.argocdTokenFile,
      cacheTtlMs: options.applicationCacheTtlMs,
    });
    const replicas = options.replicas;
    if (replicas) {
      this.registry = new ReplicaRegistry({
        address: replicas.redis,
        password: replicas.redisPassword,
        advertise: replicas.advertise,
        logger,
      });
    }
    this.delegates = new DelegateHub({
      logger,
      metrics: this.metrics,
      tokens: () => this.config.current.settings.delegateTokens,
      pingIntervalMs: options.delegatePingIntervalMs ?? 15_000,
      onHeldChange: (names) => this.registry?.setHeld(names),
    });
    if (replicas) {
      this.relayServer = createRelayServer({
        hub: this.delegates,
        metrics: this.metrics,
        logger,
        key: () => this.config.current.relayKey,
      });
    }
    const pipeline = (this.pipeline = new RequestPipeline({
      runtime: () => this.config.current,
      applications: this.applications,
      destinations: this.destinations,
      metrics: this.metrics,
      logger,
      controlPlaneNamespace: options.namespace,
      rootPath: options.rootPath,
    }));
    this.config = new ConfigManager({
      sources: options.sources,
      dexServer: options.dexServer,
      reloadIntervalMs: options.reloadIntervalMs,
      logger,
      metrics: this.metrics,
      onForwardFailure: pipeline.respondToForwardFailure,
      delegates: this.delegates,
      registry: this.registry,
      // SSO groups Argo CD replaces are asked of Argo CD over the same connections.
      argocdApi: this.applications.api,
      onReload: (runtime) => {
        // A policy change must not be outlived by answers given under the old one.
        this.applications.clearCache();
        this.destinations.clearCache();
        this.delegates.revalidate(runtime.settings.delegateTokens);
      },
    });
    const handle = pipeline.handle;
    const bodyIdleMs = options.bodyIdleTimeoutMs ?? 60_000;
    this.server = http.createServer(
      {
        maxHeaderSize: MAX_HEADER_BYTES,
        // How often Node checks the header timeout (its default, 30 s, would let a short
        // --header-timeout fire up to 30 s late).
        connectionsCheckingInterval: Math.min(1_000, options.headersTimeoutMs ?? 30_000),
      },
      (req, res) => {
        if (this.draining) res.setHeader('connection', 'close');
        // A body that stops arriving (a slow-body slowloris) is cut after the idle timeout;
        // a long upload that keeps sending is never cut. Node closes the socket on
        // 'timeout' when nobody else handles it.
        if (bodyIdleMs > 0 && hasRequestBody(req)) {
          req.socket.setTimeout(bodyIdleMs);
          req.once('end', () => req.socket.setTimeout(0));
        }
        handle(req, res);
      },
    );
    // Agents dial in through the same Ingress rule as the UI, so under the root path too.
    const connectPath = (options.rootPath ?? '') + CONNECT_PATH;
    this.server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
      // SECURITY: Node removes its own error listener before emitting 'upgrade'; without one,
      // a client resetting the connection during the checks would crash the process.
      socket.on('error', () => socket.destroy());
      this.upgraded.add(socket);
      socket.once('close', () => this.upgraded.delete(socket));
      if (this.draining) {
        socket.destroy();
        return;
      }
      // Delegate agents dial in here (a path no extension can have); everything else is a
      // WebSocket for an extension and goes through every check.
      if (req.url === connectPath) this.delegates.accept(req, socket, head);
      else pipeline.handleUpgrade(req, socket, head);
    });
    // Uploads and streams may legitimately take long; headers may not.
    this.server.requestTimeout = 0;
    // Slow-header clients (slowloris) are cut after this; bodies may take as long as they need.
    this.server.headersTimeout = options.headersTimeoutMs ?? 30_000;
    this.admin = createAdminServer(this.metrics, {
      // Delegates never affect readiness: a missing agent fails only its own services (503).
      ready: () => this.config.loaded && !this.draining,
      delegates: () => this.delegates.list(),
      problems: () => this.config.problemsInForce,
    });
  }

  /** Loads the configuration (throws ConfigLoadError on problems), then listens. */
  async start(): Promise<{ address: AddressInfo; adminAddress: AddressInfo }> {
    if (!this.destinations.configured) {
      // Started anyway, failing closed per request: a sidecar that exits would crash-loop in
      // argocd-server's pod, which is what an upgrade before the install step would do.
      this.options.logger.error(
        'the destination check is not configured: every extension request will get 503 until the sidecar runs with --argocd-token-file (see docs/install.md)',
      );
    } else {
      const problem = await this.destinations.tokenProblem();
      if (problem) {
        this.options.logger.warn(
          'the destination check cannot read its token yet: extension requests get 503 until the Secret argocd-extension-proxy-api-token is created (see docs/install.md)',
          { error: problem },
        );
      }
    }
    await this.config.start(this.options.waitForValidConfig ?? false);
    const address = await listen(this.server, this.options.listen);
    const adminAddress = await listen(this.admin, this.options.adminListen);
    let relay: AddressInfo | undefined;
    if (this.relayServer && this.options.replicas) {
      relay = await listen(this.relayServer, this.options.replicas.peerListen);
      this.registry?.start();
    }
    this.options.logger.info('listening', {
      address: `${address.address}:${address.port}`,
      admin: `${adminAddress.address}:${adminAddress.port}`,
      relay: relay ? `${relay.address}:${relay.port}` : undefined,
      advertise: this.options.replicas?.advertise,
    });
    return { address, adminAddress };
  }

  /**
   * Graceful stop: readiness fails at once, no new connections are accepted, idle
   * keep-alive connections close, in-flight requests finish (up to the shutdown timeout,
   * after which they are cut).
   */
  async shutdown(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    const { logger } = this.options;
    logger.info('shutting down; draining in-flight requests', { inflight: this.pipeline.inflight });
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const deadline = Date.now() + this.options.shutdownTimeoutMs;
    while (this.pipeline.inflight > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      this.server.closeIdleConnections();
    }
    if (this.pipeline.inflight > 0) {
      logger.warn('shutdown timeout reached; closing remaining connections', {
        inflight: this.pipeline.inflight,
      });
    }
    this.server.closeAllConnections();
    // Tunnels get GOAWAY (agents reconnect to another replica); then, like WebSockets,
    // which have no natural end, every upgraded socket closes once requests have drained.
    this.delegates.close();
    this.delegates.destroy();
    for (const socket of this.upgraded) socket.destroy();
    await closed;
    if (this.relayServer) {
      this.relayServer.closeAllConnections();
      await new Promise<void>((resolve) => this.relayServer!.close(() => resolve()));
    }
    await this.registry?.close();
    this.config.stop();
    this.applications.close();
    await new Promise<void>((resolve) => this.admin.close(() => resolve()));
    this.admin.closeAllConnections();
    logger.info('stopped');
  }
}

function listen(server: http.Server, at: ListenAddress): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // A deep accept queue: a burst of new connections (a rollout, a client pool
    // reconnecting) must wait to be accepted, not have its SYNs dropped (1 s retry).
    server.listen({ port: at.port, host: at.host, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
