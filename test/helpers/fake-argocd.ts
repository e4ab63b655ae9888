import { createHmac, timingSafeEqual } from 'crypto';
import http from 'http';
import { AddressInfo } from 'net';
import { ConnectionDropper } from './connection-dropper';
import { listenOn } from './echo-backend';
import { join } from 'path';
import { signLocalToken, TEST_SERVER_SECRET } from './local-tokens';
import { MountedDir } from './mounted-dir';

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

/** The Argo CD local account the extension proxy reads projects and clusters with. */
export const EXTENSION_PROXY_ACCOUNT = 'extension-proxy';

/** v1alpha1.KubernetesInternalAPIServerAddr. */
export const IN_CLUSTER_SERVER = 'https://kubernetes.default.svc';

/** An AppProject (the parts the destination check reads). */
export interface FakeProject {
  name: string;
  destinations: { server?: string; name?: string; namespace?: string }[];
  permitOnlyProjectScopedClusters?: boolean;
}

/** A registered cluster (a cluster secret), as GET /api/v1/clusters lists it. */
export interface FakeCluster {
  server: string;
  name: string;
  /** A project-scoped cluster's project. */
  project?: string;
}

/** `p, <subject>, <resource>, get, <object>, allow`; object `*` or an exact name. */
export interface FakeGrant {
  subject: string;
  resource: 'projects' | 'clusters';
  object: string;
}

/** Argo CD's default project: any server, any namespace. */
export function defaultProject(): FakeProject {
  return { name: 'default', destinations: [{ server: '*', namespace: '*' }] };
}

/** What policy.extension-proxy.csv grants the account. */
export function accountGrants(subject: string): FakeGrant[] {
  return [
    { subject, resource: 'projects', object: '*' },
    { subject, resource: 'clusters', object: '*' },
  ];
}

/**
 * The one stand-in the tests use: argocd-server cannot run here. It answers
 * `GET /api/v1/applications/{name}?appNamespace={ns}` the way Argo CD does: 401 for a
 * missing or invalid session, 403 `permission denied` both for an unknown application and
 * for one the caller may not read, 200 with the Application otherwise. For the extension
 * proxy's own account it answers `GET /api/v1/projects/{name}` and `GET /api/v1/clusters`
 * as Argo CD does (see handleAccountApi). Local tokens are
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
  /** SSO subjects' groups as the identity provider answers them now (see setUserInfoGroups). */
  private readonly userInfoGroups = new Map<string, string[] | null>();
  /** AppProjects; Argo CD creates `default` at start (server/server.go initializeDefaultProject). */
  private projects: FakeProject[] = [defaultProject()];
  /** Registered clusters (cluster secrets); in-cluster is listed implicitly unless disabled. */
  private clusters: FakeCluster[] = [];
  /** argocd-cm `cluster.inClusterEnabled` (default true). */
  inClusterEnabled = true;
  /** Who may `projects, get` / `clusters, get` what; default: the extension proxy's account. */
  grants: FakeGrant[] = accountGrants(EXTENSION_PROXY_ACCOUNT);
  /** Status to answer instead, per path (e.g. `/api/v1/clusters` → 500). */
  readonly pathFailures = new Map<string, number>();
  private tokenDir?: MountedDir;
  private account?: string;

  constructor(private readonly secret: string = TEST_SERVER_SECRET) {}

  setApplications(apps: FakeApplication[]): void {
    this.apps = apps;
  }

  setProjects(projects: FakeProject[]): void {
    this.projects = projects;
  }

  setClusters(clusters: FakeCluster[]): void {
    this.clusters = clusters;
  }

  /**
   * The API key of the extension proxy's account (`argocd account generate-token --account
   * extension-proxy`: sub `extension-proxy:apiKey`, no expiry), signed like Argo CD's.
   */
  accountToken(): string {
    this.account ??= signLocalToken(
      { sub: `${EXTENSION_PROXY_ACCOUNT}:apiKey`, exp: undefined },
      { secret: this.secret },
    );
    return this.account;
  }

  /**
   * A file holding {@link accountToken}, laid out like the mounted Secret
   * argocd-extension-proxy-api-token (key `token`, with the trailing newline a file made by
   * `argocd account generate-token > token` has): what --argocd-token-file names. Given a
   * token, writes it there instead (a rotation, as the kubelet does it); without one, leaves
   * what the file holds.
   */
  accountTokenFile(token?: string): string {
    if (!this.tokenDir) {
      this.tokenDir = new MountedDir({ token: `${token ?? this.accountToken()}\n` });
    } else if (token !== undefined) this.tokenDir.update({ token: `${token}\n` });
    return join(this.tokenDir.path, 'token');
  }

  /**
   * The sidecar's (and doctor's) flags for this stand-in: the API URL, and the token of the
   * extension proxy's own account, which the destination check reads projects and clusters
   * with.
   */
  sidecarFlags(): string[] {
    return ['--argocd-server', this.url, '--argocd-token-file', this.accountTokenFile()];
  }

  /**
   * What Argo CD's `groups` claim becomes for SSO subject `sub` (util/oidc
   * SetGroupsClaimFromEndpoint, with enableUserInfoGroups or the Azure overage): a list
   * replaces the token's groups; null makes the lookup fail (the provider's userinfo or
   * Graph refused), so Argo CD refuses the session. Unset: the token's own groups.
   */
  setUserInfoGroups(sub: string, groups: string[] | null): void {
    this.userInfoGroups.set(sub, groups);
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
    this.tokenDir?.remove();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.dropper.drops(req)) return;
    this.requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failWith)
      return send(res, this.failWith, { error: 'internal', code: 13, message: 'internal' });
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/api/v1/session/userinfo') {
      return this.userInfo(req, res);
    }
    const failure = this.pathFailures.get(url.pathname);
    if (failure) return send(res, failure, { error: 'internal', code: 13, message: 'internal' });
    if (req.method === 'GET' && ACCOUNT_API_PATH.test(url.pathname)) {
      return this.handleAccountApi(req, res, url.pathname);
    }
    const match = /^\/api\/v1\/applications\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !match)
      return send(res, 404, { error: 'Not Found', code: 5, message: 'Not Found' });
    const subject = this.authenticate(req, res);
    if (subject === undefined) return;
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

  /**
   * server/server.go (*ArgoCDServer).getClaims: the caller's subject, or undefined after
   * answering 401 (a revoked, forged or expired token).
   */
  private authenticate(req: http.IncomingMessage, res: http.ServerResponse): string | undefined {
    const token = bearerToken(req);
    if (token !== undefined && this.revoked.has(token)) {
      // SessionManager.VerifyToken's error, wrapped by ArgoCDServer.getClaims.
      const message = 'invalid session: token is revoked, please re-login';
      send(res, 401, { error: message, code: 16, message });
      return undefined;
    }
    const subject = this.verify(token);
    if (!subject) {
      send(res, 401, {
        error: 'invalid session: token signature is invalid',
        code: 16,
        message: 'invalid session: token signature is invalid',
      });
    }
    return subject;
  }

  /**
   * GET /api/v1/projects/{name} (server/project/project.go (*Server).Get) and
   * GET /api/v1/clusters (server/cluster/cluster.go (*Server).List), as Argo CD answers them:
   * - Get enforces `projects, get, <name>` first (util/rbac (*Enforcer).EnforceErr: 403
   *   "permission denied: projects, get, <name>, sub: <subject>, iat: <RFC3339>", whether or
   *   not the project exists), then reads it (404 `appprojects.argoproj.io "<name>" not
   *   found`, the Kubernetes error through util/grpc kubeErrToGRPC);
   * - List takes util/db (*db).ListClusters (the registered clusters plus the implicit
   *   in-cluster one, unless `cluster.inClusterEnabled` is false) and silently leaves out every
   *   cluster the caller may not `clusters, get` (object CreateClusterRBACObject: `<server>`,
   *   or `<project>/<server>` for a project-scoped cluster): 200, never 403.
   */
  private handleAccountApi(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    pathname: string,
  ): void {
    const subject = this.authenticate(req, res);
    if (subject === undefined) return;
    if (pathname === '/api/v1/clusters') {
      const items = this.listClusters()
        .filter((c) => this.allows(subject, 'clusters', clusterRbacObject(c)))
        .map(clusterResponse);
      return send(res, 200, { metadata: {}, items });
    }
    const name = decodeURIComponent(pathname.slice('/api/v1/projects/'.length));
    if (!this.allows(subject, 'projects', name)) {
      const iat = issuedAt(bearerToken(req));
      const message = `permission denied: projects, get, ${name}, sub: ${subject}${iat ? `, iat: ${iat}` : ''}`;
      return send(res, 403, { error: message, code: 7, message });
    }
    const project = this.projects.find((p) => p.name === name);
    if (!project) {
      const message = `appprojects.argoproj.io "${name}" not found`;
      return send(res, 404, { error: message, code: 5, message });
    }
    send(res, 200, projectResponse(project));
  }

  /** util/db (*db).ListClusters. */
  private listClusters(): FakeCluster[] {
    const secretBacked = this.clusters.filter(
      (c) => c.server !== IN_CLUSTER_SERVER || this.inClusterEnabled,
    );
    const hasInCluster = secretBacked.some((c) => c.server === IN_CLUSTER_SERVER);
    if (this.inClusterEnabled && !hasInCluster) {
      return [...secretBacked, { server: IN_CLUSTER_SERVER, name: 'in-cluster' }];
    }
    return secretBacked;
  }

  /** One `p, <subject>, <resource>, get, <object>, allow` line of the stand-in's policy. */
  private allows(subject: string, resource: 'projects' | 'clusters', object: string): boolean {
    return this.grants.some(
      (g) =>
        g.subject === subject &&
        g.resource === resource &&
        (g.object === '*' || g.object === object),
    );
  }

  /**
   * server/session/session.go GetUserInfo. Always 200: AuthFuncOverride ignores the
   * authentication error and the answer shows what the context holds (sessionmgr LoggedIn,
   * Username, Iss, Groups):
   * - a session Argo CD accepts: `loggedIn`, `username`, `iss`, and `groups` after
   *   SetGroupsClaimFromEndpoint (what setUserInfoGroups set, else the token's);
   * - the group lookup failed: getClaims keeps the token's own claims, without `loggedIn`;
   * - no token, an invalid or revoked one: `{}`; an expired SSO token: `{"iss":"sso"}`
   *   (SessionManager.VerifyToken's stand-in claims).
   * Empty and false fields are left out, as grpc-gateway's encoding/json marshaller does.
   */
  private userInfo(req: http.IncomingMessage, res: http.ServerResponse): void {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (token === undefined || this.revoked.has(token)) return send(res, 200, {});
    const claims = this.decode(token);
    if (!claims || !this.verify(token)) {
      const expired = claims && claims.iss !== 'argocd' && (claims.exp ?? 0) * 1000 < Date.now();
      return send(res, 200, expired ? { iss: 'sso' } : {});
    }
    const sub = typeof claims.sub === 'string' ? claims.sub : '';
    const local = claims.iss === 'argocd';
    const federated = claims.federated_claims?.user_id;
    const userId = local ? sub.split(':')[0] : federated || sub;
    const tokenGroups = Array.isArray(claims.groups)
      ? claims.groups.filter((g): g is string => typeof g === 'string')
      : typeof claims.groups === 'string'
        ? [claims.groups]
        : [];
    const replaced = local ? undefined : this.userInfoGroups.get(sub);
    const answer = {
      loggedIn: userId !== '' && replaced !== null,
      username: local ? userId : claims.email || userId,
      iss: claims.iss,
      groups: replaced ?? tokenGroups,
    };
    send(
      res,
      200,
      Object.fromEntries(
        Object.entries(answer).filter(
          ([, value]) =>
            value !== false && value !== '' && !(Array.isArray(value) && !value.length),
        ),
      ),
    );
  }

  /** The payload of a JWT, unverified. */
  private decode(token: string):
    | {
        iss?: string;
        sub?: unknown;
        exp?: number;
        email?: string;
        groups?: unknown;
        federated_claims?: { user_id?: string };
      }
    | undefined {
    try {
      return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
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

/** The paths of the API the extension proxy's own account reads. */
const ACCOUNT_API_PATH = /^\/api\/v1\/(?:clusters|projects\/[^/]+)$/;

function bearerToken(req: http.IncomingMessage): string | undefined {
  return /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
}

/** The token's `iat` as EnforceErr prints it (RFC 3339, UTC), when it has one. */
function issuedAt(token: string | undefined): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token?.split('.')[1] ?? '', 'base64url').toString());
    return typeof payload.iat === 'number'
      ? new Date(payload.iat * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
      : undefined;
  } catch {
    return undefined;
  }
}

/** server/cluster/cluster.go CreateClusterRBACObject. */
function clusterRbacObject(cluster: FakeCluster): string {
  return cluster.project ? `${cluster.project}/${cluster.server}` : cluster.server;
}

/** A v1alpha1.Cluster after Sanitized(), with the fields Go always writes. */
function clusterResponse(cluster: FakeCluster): Record<string, unknown> {
  return {
    server: cluster.server,
    name: cluster.name,
    ...(cluster.project ? { project: cluster.project } : {}),
    config: { tlsClientConfig: { insecure: false } },
    connectionState: { status: 'Successful', message: '' },
    info: { connectionState: { status: 'Successful', message: '' }, applicationsCount: 1 },
  };
}

/** A v1alpha1.AppProject as the API serializes it (empty spec fields omitted). */
function projectResponse(project: FakeProject): Record<string, unknown> {
  return {
    metadata: {
      name: project.name,
      namespace: 'argocd',
      uid: `uid-project-${project.name}`,
      resourceVersion: '1',
      generation: 1,
    },
    spec: {
      sourceRepos: ['*'],
      ...(project.destinations.length > 0 ? { destinations: project.destinations } : {}),
      ...(project.permitOnlyProjectScopedClusters ? { permitOnlyProjectScopedClusters: true } : {}),
    },
    status: {},
  };
}
