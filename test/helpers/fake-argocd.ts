import { createHmac, timingSafeEqual } from 'crypto';
import http from 'http';
import { AddressInfo } from 'net';
import { ConnectionDropper } from './connection-dropper';
import { listenOn } from './echo-backend';
import { TEST_SERVER_SECRET } from './local-tokens';

/** An application the stand-in knows, and who may read it. */
export interface FakeApplication {
  name: string;
  namespace: string;
  project: string;
  destination: { name?: string; server?: string; namespace?: string };
  /** Subjects (local user name or SSO sub) that may `applications, get` it; '*' = everyone. */
  readers: string[];
}

/**
 * argocd/guestbook, project default, deployed in-cluster (to `destinationNamespace` when
 * given): the application the tests, the bench and the demo name, readable by `readers`.
 */
export function guestbook(readers: string[], destinationNamespace?: string): FakeApplication {
  return {
    name: 'guestbook',
    namespace: 'argocd',
    project: 'default',
    destination: {
      server: 'https://kubernetes.default.svc',
      ...(destinationNamespace === undefined ? {} : { namespace: destinationNamespace }),
    },
    readers,
  };
}

/**
 * The one stand-in the tests use: argocd-server cannot run here. It answers
 * `GET /api/v1/applications/{name}?appNamespace={ns}` the way Argo CD does: 401 for a
 * missing or invalid session, 403 `permission denied` both for an unknown application and
 * for one the caller may not read, 200 with the Application otherwise. Local tokens are
 * verified with the shared test secret (HS256, iss argocd); other issuers' tokens are
 * trusted by subject, since only the sidecar (under test) verifies them.
 */
export class FakeArgoCD {
  readonly requests: { path: string; authorization?: string }[] = [];
  private server?: http.Server;
  private apps: FakeApplication[] = [];
  /** Milliseconds to wait before answering (to exercise timeouts and coalescing). */
  delayMs = 0;
  /** Status to answer every request with instead (e.g. 500). */
  failWith?: number;
  /** Closes connections instead of answering, when told to. */
  readonly dropper = new ConnectionDropper();
  /** Tokens logged out (util/session/sessionmanager.go keeps a revocation list). */
  private readonly revoked = new Set<string>();

  constructor(private readonly secret: string = TEST_SERVER_SECRET) {}

  setApplications(apps: FakeApplication[]): void {
    this.apps = apps;
  }

  /** Logs a session out: Argo CD refuses it on every later request. */
  revokeToken(token: string): void {
    this.revoked.add(token);
  }

  get url(): string {
    const addr = this.server?.address() as AddressInfo;
    return `http://127.0.0.1:${addr.port}`;
  }

  async start(port = 0): Promise<string> {
    // Go's http.Server (argocd-server) accepts 1 MiB of headers (DefaultMaxHeaderBytes).
    this.server = http.createServer(
      { maxHeaderSize: 1024 * 1024 },
      (req, res) => void this.handle(req, res),
    );
    await listenOn(this.server, port);
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server?.listening) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.dropper.drops(req)) return;
    this.requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failWith)
      return send(res, this.failWith, { error: 'internal', code: 13, message: 'internal' });
    const url = new URL(req.url ?? '/', 'http://x');
    const match = /^\/api\/v1\/applications\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !match)
      return send(res, 404, { error: 'Not Found', code: 5, message: 'Not Found' });
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (token !== undefined && this.revoked.has(token)) {
      // SessionManager.VerifyToken's error, wrapped by ArgoCDServer.getClaims.
      const message = 'invalid session: token is revoked, please re-login';
      return send(res, 401, { error: message, code: 16, message });
    }
    const subject = this.verify(token);
    if (!subject) {
      return send(res, 401, {
        error: 'invalid session: token signature is invalid',
        code: 16,
        message: 'invalid session: token signature is invalid',
      });
    }
    // Argo CD: an empty appNamespace means the control plane's namespace.
    const namespace = url.searchParams.get('appNamespace') || 'argocd';
    const name = decodeURIComponent(match[1]);
    const app = this.apps.find((a) => a.name === name && a.namespace === namespace);
    if (!app || !(app.readers.includes('*') || app.readers.includes(subject))) {
      return send(res, 403, { error: 'permission denied', code: 7, message: 'permission denied' });
    }
    send(res, 200, {
      metadata: { name: app.name, namespace: app.namespace, uid: 'uid-' + app.name },
      spec: {
        project: app.project,
        destination: app.destination,
        source: { repoURL: 'https://example.invalid/repo', path: '.' },
      },
      status: { sync: { status: 'Synced' }, health: { status: 'Healthy' } },
    });
  }

  private verify(token: string | undefined): string | undefined {
    if (!token) return undefined;
    const [h, p, s] = token.split('.');
    if (!h || !p || !s) return undefined;
    let payload: { iss?: string; sub?: string; exp?: number };
    try {
      payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (payload.exp !== undefined && payload.exp * 1000 < Date.now()) return undefined;
    if (payload.iss === 'argocd') {
      const expected = createHmac('sha256', this.secret).update(`${h}.${p}`).digest();
      const given = Buffer.from(s, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      return (payload.sub ?? '').split(':')[0];
    }
    return payload.sub;
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
