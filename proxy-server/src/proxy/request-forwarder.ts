import { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'http';
import { Readable } from 'stream';
import { Pool } from './undici-pool';
import { BackendConfig, ServiceConfig } from '../config/types';
import { PayloadTooLargeError, ServiceUnavailableError } from '../errors';
import { CircuitBreaker, RetryBudget } from './backend-health';
import { TlsOptions } from './backend-tls';
import { ForwardFailure, ForwardObserver, hasRequestBody } from './forwarder';
import { BodyLimit } from './limits';
import { ResponseWriter } from './response-writer';
import { toUndiciHeaders } from './undici-headers';

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

/**
 * Plain (non-upgrade) requests to one backend service, through an undici connection pool per
 * URL: the hot path. undici's dispatcher parses responses without building Node streams for
 * them, which costs fewer instructions per request than Node's http client
 * (docs/performance.md, "npm run bench:instructions"). Here live the parts that choose and
 * protect a URL: the concurrency limit, failover URLs, circuit breakers and retries within a
 * budget; ResponseWriter streams each response and enforces the response timeout.
 */
export class RequestForwarder {
  /** `url`, then each of `failoverUrls`, in order. */
  private readonly targets: Target[];
  private readonly budget: RetryBudget;
  private inflight = 0;

  constructor(
    service: ServiceConfig,
    private readonly backend: BackendConfig,
    tlsOptions: TlsOptions,
    private readonly onFailure: ForwardFailure,
    private readonly observer: ForwardObserver,
  ) {
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
        // Timeouts are ours (ResponseWriter's): undici's header timer also runs while a
        // slow backend is still reading a long upload.
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

  /** Destroys every connection at once (shutdown). */
  close(): void {
    for (const target of this.targets) void target.pool.destroy().catch(() => undefined);
  }

  /** Idle connections close now, busy ones once their request ends. */
  retire(): void {
    // undici: close() waits for in-flight requests, then closes every connection.
    for (const target of this.targets) void target.pool.close().catch(() => undefined);
  }
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
