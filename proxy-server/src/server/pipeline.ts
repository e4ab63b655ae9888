import { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'http';
import { Duplex } from 'stream';
import { TLSSocket } from 'tls';
import { Identity } from '../auth/identity';
import { extractSessionToken } from '../auth/token-extraction';
import { tokenKey } from '../auth/token-key';
import { Application, ApplicationLookup } from '../argocd/application-lookup';
import { DestinationCheck } from '../argocd/project-lookup';
import {
  AuthenticationError,
  AuthenticationFailureReason,
  describeError,
  InputError,
  NotAllowedError,
  NotFoundError,
  ProxyError,
  ServiceUnavailableError,
  toErrorResponse,
} from '../errors';
import { Logger } from '../logger';
import { ProxyMetrics } from '../metrics';
import { parseExtensionPath, joinUpstreamPath, ExtensionTarget } from '../proxy/extension-path';
import {
  ApplicationRef,
  carriesApplicationHeaders,
  validateApplicationHeaders,
} from '../proxy/request-validation';
import { resolveService } from '../proxy/routing';
import { checkDeclaredBodySize, checkHeaderSize } from '../proxy/limits';
import { buildUpstreamHeaders } from '../proxy/upstream-headers';
import { writeErrorToSocket } from '../proxy/socket-error';
import { authorizeInvoke } from '../rbac/invoke-permission';
import { Forwarder } from '../proxy/forwarder';
import { Runtime } from './runtime';

/** Where and how stage 8 forwards a request that passed every check. */
interface ForwardPlan {
  forwarder: Forwarder;
  upstreamPath: string;
  headers: OutgoingHttpHeaders;
}

export interface PipelineDeps {
  runtime: () => Runtime;
  applications: ApplicationLookup;
  /** Stage 5b: the application's destination, against its project (Argo CD 3.x). */
  destinations: DestinationCheck;
  metrics: ProxyMetrics;
  logger: Logger;
  /** Argocd-Namespace: where Argo CD's control plane runs. */
  controlPlaneNamespace: string;
  /**
   * Argo CD's `server.rootpath`, normalised (`''` or `/argocd`): extension requests arrive
   * under it, as the UI sends them and the Ingress passes them on.
   */
  rootPath?: string;
}

type Stage =
  | 'parse'
  | 'authenticate'
  | 'headers'
  | 'authorize'
  | 'rate-limit'
  | 'application'
  | 'destination'
  | 'route'
  | 'forward';

/** What the request log line and metrics say about one request. */
interface RequestRecord {
  started: bigint;
  /** The stage running now; when a stage throws, where the request stopped. */
  stage: Stage;
  extension: string;
  target?: ExtensionTarget;
  identity?: Identity;
  app?: ApplicationRef;
  error?: unknown;
  /** Handed to the backend (Argo CD's request metrics count only these). */
  forwarded?: boolean;
}

/**
 * The response carries its request's record, for the forwarder's failure callback, under a
 * symbol property rather than in a WeakMap keyed by the response: V8's young-generation
 * collector treats WeakMap entries as live, so each request's record (~0.7 KB with what it
 * references) would be promoted to the old generation and freed only by a full collection.
 * On the response itself, the record dies young with it.
 */
const RECORD = Symbol('requestRecord');
type RecordedResponse = ServerResponse & { [RECORD]?: RequestRecord };

/**
 * The request path (README.md, "How a request is handled"), in order, in this one place:
 *   1 parse path (1b header size limit) → 2 authenticate → 3 validate Argocd-* headers →
 *   4 authorize (RBAC; 4b rate limits) → 5 check the application with Argo CD (5b its
 *   destination: a registered cluster its project permits) → 6 route
 *   (6b declared body size) → 7 rewrite headers → 8 forward (retries, failover, circuit
 *   breakers, concurrency cap, streamed body size).
 * Each stage lives in its own module and throws a ProxyError; `respondWithError` is the
 * only place that turns one into a response.
 */
export class RequestPipeline {
  /** Plain requests being handled (the sidecar waits for them to finish on shutdown). */
  inflight = 0;

  constructor(private readonly deps: PipelineDeps) {}

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const record = this.startRecord();
    (res as RecordedResponse)[RECORD] = record;
    this.inflight++;
    // 'close' is emitted once per response, so `on` (without `once`'s wrapper) is enough.
    res.on('close', () => {
      this.inflight--;
      this.record(req, record, res.writableFinished ? res.statusCode : 0, !res.writableFinished);
    });
    try {
      const plan = this.check(req, record, false);
      // Every answer cached (the common case): no promise, and no closure, on the way to
      // the backend. catch() after then(): a throw while starting to forward is answered
      // too, never left as an unhandled rejection.
      if (plan instanceof Promise) {
        plan
          .then((ready) => {
            record.forwarded = true;
            ready.forwarder.forward(req, res, ready.upstreamPath, ready.headers);
          })
          .catch((err: unknown) => this.respondWithError(req, res, err, record));
      } else {
        record.forwarded = true;
        plan.forwarder.forward(req, res, plan.upstreamPath, plan.headers);
      }
    } catch (err) {
      this.respondWithError(req, res, err, record);
    }
  };

  /**
   * A WebSocket upgrade: the same checks, then the forwarder splices the sockets. A
   * rejection is written to the socket as a plain HTTP response with the JSON error body.
   */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const record = this.startRecord();
    let status = 0;
    socket.once('close', () => this.record(req, record, status, status === 0));
    const reject = (err: unknown): void => {
      record.error = err;
      status = writeErrorToSocket(socket, err);
    };
    Promise.resolve()
      .then(() => this.check(req, record, true))
      .then((plan) => {
        record.forwarded = true;
        plan.forwarder.forwardUpgrade(req, socket, head, plan.upstreamPath, plan.headers, {
          onUpgraded: () => (status = 101),
          onFailure: reject,
        });
      })
      .catch(reject);
  };

  /** For the forwarder: a backend failure before any response byte was sent. */
  readonly respondToForwardFailure = (err: ProxyError, req: IncomingMessage, res: ServerResponse) =>
    this.respondWithError(req, res, err, (res as RecordedResponse)[RECORD]);

  private startRecord(): RequestRecord {
    return { started: process.hrtime.bigint(), stage: 'parse', extension: '' };
  }

  /**
   * Stages 1 to 7: where and how to forward, or a thrown/rejected ProxyError. Synchronous
   * when the token, the application answer, its project and the cluster list are cached; a
   * Promise when any of them needs I/O.
   */
  private check(
    req: IncomingMessage,
    record: RequestRecord,
    upgrade: boolean,
  ): ForwardPlan | Promise<ForwardPlan> {
    const runtime = this.deps.runtime();
    // 1 parse path
    const target = parseExtensionPath(req.url ?? '', this.deps.rootPath);
    record.target = target;
    // Label metrics only with configured names, so arbitrary paths cannot grow label sets.
    const extension = runtime.settings.extensions.get(target.name);
    if (extension) {
      record.extension = target.name;
      // 1b the extension's header size limit, before any work is spent on the request
      this.limit(record, 'headers', () => checkHeaderSize(req, extension.backend.limits));
    }
    // 2 authenticate
    record.stage = 'authenticate';
    const token = extractSessionToken(req.headers);
    // Hashed once: both caches are keyed by it.
    const key = tokenKey(token);
    const identity = runtime.authenticator.lookupCached(token, key);
    this.deps.metrics.recordCacheLookup('token', identity !== undefined);
    if (identity)
      return this.checkAuthenticated(req, record, upgrade, runtime, identity, token, key);
    return runtime.authenticator
      .authenticate(token, key)
      .then((verified) =>
        this.checkAuthenticated(req, record, upgrade, runtime, verified, token, key),
      );
  }

  /** Stages 3 to 7, for an authenticated caller. */
  private checkAuthenticated(
    req: IncomingMessage,
    record: RequestRecord,
    upgrade: boolean,
    runtime: Runtime,
    identity: Identity,
    token: string,
    tokenHash: string,
  ): ForwardPlan | Promise<ForwardPlan> {
    const target = record.target as ExtensionTarget;
    record.identity = identity;
    // 3 validate headers; an extension that allows it takes requests naming no application
    // (stages 5 and 5b do not apply to them)
    record.stage = 'headers';
    const withoutApplication =
      runtime.settings.extensions.get(target.name)?.backend.allowRequestsWithoutApplication ===
        true && !carriesApplicationHeaders(req.headers);
    const ref = withoutApplication ? undefined : validateApplicationHeaders(req.headers);
    record.app = ref;
    if (upgrade) checkWebSocketUpgrade(req);
    // 4 authorize
    record.stage = 'authorize';
    authorizeInvoke(runtime.enforcer, identity, target.name);
    // 4b rate limits of the extension (protect the Argo CD API and the backend alike)
    const limiter = runtime.rateLimiters.get(target.name);
    if (limiter) {
      record.stage = 'rate-limit';
      limiter.check(identity.username, (scope) =>
        this.deps.metrics.limited.inc({ extension: target.name, reason: `rate-${scope}` }),
      );
    }
    if (!ref) return this.plan(req, record, upgrade, runtime, identity, undefined);
    // 5 application
    record.stage = 'application';
    const { applications } = this.deps;
    const cached = applications.lookupCached?.(tokenHash, ref.namespace, ref.name);
    if (cached) return this.checkDestination(req, record, upgrade, runtime, identity, ref, cached);
    return applications
      .getApplication(token, ref.namespace, ref.name, tokenHash)
      .then((app) => this.checkDestination(req, record, upgrade, runtime, identity, ref, app));
  }

  /** Stage 5 (the answer's check) and 5b (its destination), then 6 and 7. */
  private checkDestination(
    req: IncomingMessage,
    record: RequestRecord,
    upgrade: boolean,
    runtime: Runtime,
    identity: Identity,
    ref: ApplicationRef,
    app: Application,
  ): ForwardPlan | Promise<ForwardPlan> {
    checkApplicationMatches(app, ref);
    // 5b destination: a registered cluster that the application's project permits
    record.stage = 'destination';
    const { destinations, metrics } = this.deps;
    const cached = destinations.permittedCached?.(app);
    metrics.recordCacheLookup('destination', cached !== undefined);
    if (cached) return this.plan(req, record, upgrade, runtime, identity, app);
    return destinations
      .check(app)
      .then(() => this.plan(req, record, upgrade, runtime, identity, app));
  }

  /**
   * Stages 6 and 7, for an application that passed every check, or for a request without
   * one to an extension that allows it (its single service, no application headers).
   */
  private plan(
    req: IncomingMessage,
    record: RequestRecord,
    upgrade: boolean,
    runtime: Runtime,
    identity: Identity,
    app: Application | undefined,
  ): ForwardPlan {
    const target = record.target as ExtensionTarget;
    // 6 route
    record.stage = 'route';
    const extension = runtime.settings.extensions.get(target.name);
    if (!extension) throw new NotFoundError(`extension ${target.name} is not configured`);
    if (extension.unavailable) {
      // Which key is missing is for the administrator (the log, /readyz, doctor), not the user.
      throw new ServiceUnavailableError(
        `extension ${target.name} is unavailable: its configuration references an argocd-secret key that is missing or empty (see the extension proxy's log)`,
      );
    }
    const service = app
      ? resolveService(extension, app.destination)
      : extension.backend.services[0];
    this.limit(record, 'body', () => checkDeclaredBodySize(req, extension.backend.limits));
    // 7 rewrite
    record.stage = 'forward';
    const headers = buildUpstreamHeaders(req.headers, {
      identity,
      app,
      controlPlaneNamespace: this.deps.controlPlaneNamespace,
      configuredHeaders: service.headers,
      upstreamHost: service.url.host,
      clientAddress: req.socket.remoteAddress,
      clientProtocol: req.socket instanceof TLSSocket ? 'https' : 'http',
      upgrade,
    });
    // 8 forward: done by the caller, for a plain request or an upgrade
    const forwarder = runtime.forwarders.get(service);
    if (!forwarder) throw new Error('no forwarder for a configured service');
    return { forwarder, upstreamPath: joinUpstreamPath(service.url.pathname, target), headers };
  }

  /** Runs a size check; counts a refusal under `reason` before it propagates. */
  private limit(record: RequestRecord, reason: 'headers' | 'body', check: () => void): void {
    try {
      check();
    } catch (err) {
      this.deps.metrics.limited.inc({ extension: record.extension, reason });
      throw err;
    }
  }

  private respondWithError(
    req: IncomingMessage,
    res: ServerResponse,
    err: unknown,
    record: RequestRecord | undefined,
  ): void {
    const body = toErrorResponse(err);
    if (record) record.error = err;
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const payload = JSON.stringify(body);
    res.writeHead(body.status, {
      ...(err instanceof ProxyError ? err.headers : undefined),
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.end(payload);
    // An unread request body would otherwise keep the connection from being reused.
    if (!req.complete) req.resume();
  }

  private record(
    req: IncomingMessage,
    record: RequestRecord,
    status: number,
    aborted: boolean,
  ): void {
    const seconds = Number(process.hrtime.bigint() - record.started) / 1e9;
    const { metrics, logger } = this.deps;
    metrics.recordRequest(record.extension, status, seconds, record.forwarded === true);
    const error = record.error;
    const errorStatus = error === undefined ? 0 : toErrorResponse(error).status;
    if (errorStatus === 401) metrics.authFailures.inc({ reason: authFailureReason(error) });
    if (errorStatus === 403) {
      metrics.authzDenials.inc({
        extension: record.extension,
        check:
          record.stage === 'authorize'
            ? 'rbac'
            : record.stage === 'destination'
              ? 'project'
              : 'application',
      });
    }
    const fields: Record<string, unknown> = {
      method: req.method,
      // SECURITY: the path only; a query string may carry data the user did not mean to log.
      path: record.target
        ? `${this.deps.rootPath ?? ''}/extensions/${record.target.name}${record.target.rest}`
        : undefined,
      extension: record.target?.name,
      status,
      durationMs: Math.round(seconds * 1000),
      // Who, as Argo CD's "sending proxy extension request" line says it
      // (server/extension/extension.go CallExtension): user id, username and groups.
      user: record.identity?.username,
      userId: record.identity?.userId,
      groups: record.identity?.groups.length ? record.identity.groups.join(',') : undefined,
      application: record.app ? `${record.app.namespace}/${record.app.name}` : undefined,
      aborted: aborted || undefined,
    };
    if (error !== undefined) {
      fields.stage = record.stage;
      fields.error = describeError(error);
      const level = errorStatus >= 500 ? 'error' : 'warn';
      logger[level]('extension request failed', fields);
    } else {
      logger.info('extension request', fields);
    }
  }
}

function checkApplicationMatches(app: Application, ref: ApplicationRef): void {
  if (app.namespace !== ref.namespace || app.name !== ref.name) {
    throw new NotAllowedError(
      `application ${ref.namespace}/${ref.name} does not match Argo CD's answer`,
    );
  }
  if (app.project !== ref.project) {
    throw new NotAllowedError(
      `application ${ref.namespace}/${ref.name} is not in the project named by Argocd-Project-Name`,
    );
  }
}

/** A small fixed label set for 401s (messages vary; labels must not). */
function authFailureReason(err: unknown): AuthenticationFailureReason {
  return err instanceof AuthenticationError ? err.reason : 'invalid';
}

/** Only WebSocket upgrades are proxied (an h2c or other upgrade has no backend meaning). */
function checkWebSocketUpgrade(req: IncomingMessage): void {
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    throw new InputError('only WebSocket upgrades are supported');
  }
  // RFC 6455: the opening handshake is a GET (http-proxy would drop anything else silently).
  if (req.method !== 'GET') throw new InputError('a WebSocket upgrade must be a GET request');
}
