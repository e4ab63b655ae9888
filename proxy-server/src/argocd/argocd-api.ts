import http from 'http';
import https from 'https';
import { readFileSync } from 'fs';
import { rejectOnRequestError, retryOnStaleConnection } from '../util/stale-connection';

/** How the sidecar reaches the Argo CD API (`--argocd-server` and its TLS flags). */
export interface ArgoCDConnectionOptions {
  /** Argo CD API base URL. Default: `https://localhost:8080` (argocd-server in the same pod). */
  baseUrl: string;
  /** PEM CA bundle that signs argocd-server's certificate (the mounted argocd-server-tls). */
  caFile?: string;
  /**
   * Skip certificate verification. Only allowed for a loopback URL, where the only peer is
   * argocd-server in the same pod. Default: false.
   */
  insecureSkipVerify?: boolean;
  /** Per-call timeout in ms. Default: 10000. */
  timeoutMs?: number;
}

/** One answer of the Argo CD API: its status and body. */
export interface ArgoCDResponse {
  status: number;
  body: string;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * An Argo CD API object is large at most (an Application with its status and history, the
 * cluster list of a big installation), never unbounded.
 */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * The connection to the Argo CD API that every call of the sidecar shares: the application
 * check (the caller's token) and the destination check (the extension proxy's own account).
 * One pool of kept-alive connections, one TLS policy, one timeout, and the retry on a
 * connection Argo CD closed while it sat idle (util/stale-connection.ts).
 */
export class ArgoCDApi {
  private readonly base: URL;
  private readonly basePath: string;
  private readonly agent: http.Agent;
  private readonly client: typeof http | typeof https;
  private readonly timeoutMs: number;

  constructor(options: ArgoCDConnectionOptions) {
    this.base = new URL(options.baseUrl);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') {
      throw new Error(`--argocd-server must be an http or https URL, got ${options.baseUrl}`);
    }
    if (options.insecureSkipVerify && !LOOPBACK_HOSTS.has(this.base.hostname)) {
      // SECURITY: skipping verification toward a remote host would let anyone on the path
      // collect every user's session token, and the extension proxy's own.
      throw new Error('--argocd-server-insecure is only allowed for a loopback --argocd-server');
    }
    this.basePath = this.base.pathname.replace(/\/$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    const agentOptions = { keepAlive: true, maxSockets: 64, maxFreeSockets: 16 };
    if (this.base.protocol === 'https:') {
      this.client = https;
      this.agent = new https.Agent({
        ...agentOptions,
        ca: options.caFile ? readFileSync(options.caFile) : undefined,
        rejectUnauthorized: !options.insecureSkipVerify,
      });
    } else {
      this.client = http;
      this.agent = new http.Agent(agentOptions);
    }
  }

  /** The API base URL, for messages. */
  get url(): string {
    return this.base.href;
  }

  /**
   * GET `path` (below the base URL's own path) with `Authorization: Bearer <token>`; sent
   * again on a stale kept-alive connection. Rejects on a network error or a timeout; any
   * HTTP answer resolves.
   */
  get(path: string, token: string): Promise<ArgoCDResponse> {
    return retryOnStaleConnection(() => this.getOnce(this.basePath + path, token));
  }

  close(): void {
    this.agent.destroy();
  }

  private getOnce(path: string, token: string): Promise<ArgoCDResponse> {
    return new Promise((resolve, reject) => {
      const req = this.client.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname.replace(/^\[|\]$/g, ''),
          port: this.base.port,
          path,
          method: 'GET',
          agent: this.agent,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) req.destroy(new Error('response too large'));
            else chunks.push(chunk);
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      rejectOnRequestError(req, reject);
      req.end();
    });
  }
}

/**
 * The message of a grpc-gateway error body (`{"error": ..., "code": N, "message": ...}`, what
 * every /api/v1 endpoint of Argo CD answers on an error), for logs; undefined for another body.
 */
export function argoCDErrorMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { message?: unknown; error?: unknown };
    const message = parsed?.message ?? parsed?.error;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}
