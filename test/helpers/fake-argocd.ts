import { createHmac, timingSafeEqual } from 'crypto';
import http from 'http';
import { AddressInfo } from 'net';
import { ConnectionDropper } from './connection-dropper';
import { listenOn } from './echo-backend';
import {
  applicationList,
  applicationResponse,
  FakeDeployment,
  FakeResource,
  findResource,
  guestbookHistory,
  guestbookResources,
  liveObject,
  managedResources,
  resourceTree,
  revisionMetadata,
  settingsResponse,
  versionResponse,
} from './fake-argocd-ui-api';
import { join } from 'path';
import { signLocalToken, TEST_SERVER_SECRET } from './local-tokens';
import { MountedDir } from './mounted-dir';
import { splitTokenCookie } from './token-cookies';

export type { FakeDeployment, FakeResource } from './fake-argocd-ui-api';

/** An application the stand-in knows, and who may read it. */
export interface FakeApplication {
  name: string;
  namespace: string;
  project: string;
  destination: { name?: string; server?: string; namespace?: string };
  /** Subjects (local user name or SSO sub) that may `applications, get` it; '*' = everyone. */
  readers: string[];
  /** The objects it manages (the UI's resource tree); none when left out. */
  resources?: FakeResource[];
  /** `status.history`, oldest first; the last entry is also `status.operationState`. */
  history?: FakeDeployment[];
}

/**
 * argocd/guestbook, project default, deployed in-cluster (to `destinationNamespace` when
 * given): the application the tests, the bench and the demo name, readable by `readers`.
 * It manages the Deployment and the Service guestbook-ui, synced twice (26 h and 2 h ago).
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
    resources: guestbookResources(destinationNamespace ?? 'default'),
    history: guestbookHistory(),
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
 * as Argo CD does (see handleAccountApi). For Argo CD's own web UI it answers the calls on
 * the way to a resource's extension tab (handleUiApi; served on the UI's origin by
 * scripts/argocd-ui-host.ts), password logins of `localUsers` and /auth/logout. The session
 * is the `Authorization: Bearer` token, else the (chunked) argocd.token cookie, as
 * server/server.go getToken reads it. Local tokens are
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
  /**
   * Local users who may log in with a password (argocd-cm `accounts.<user>: login`, the
   * password in argocd-secret `accounts.<user>.password`): user → password.
   */
  readonly localUsers = new Map<string, string>();
  /** What `GET /api/version` reports as `Version`. */
  version = 'v3.5.1+stand-in';

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
      (req, res) => void this.handleRequest(req, res),
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

  /**
   * Answers one request as argocd-server's HTTP side does: the API under /api/ and
   * /auth/logout. The UI host (scripts/argocd-ui-host.ts) calls it to serve the API on the
   * UI's own origin, with the root path already stripped; `baseHRef` is argocd-server's
   * --basehref (set from --rootpath): the path of the session cookies it sets and clears;
   * `version` what /api/version reports (default {@link version}).
   */
  async handleRequest(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    options: { baseHRef?: string; version?: string } = {},
  ): Promise<void> {
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
    if (await this.handleUiApi(req, res, url, options.baseHRef ?? '/', options.version)) return;
    const match = /^\/api\/v1\/applications\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !match)
      return send(res, 404, { error: 'Not Found', code: 5, message: 'Not Found' });
    const subject = this.authenticate(req, res);
    if (subject === undefined) return;
    const app = this.readableApp(subject, decodeURIComponent(match[1]), url);
    if (!app) return permissionDenied(res);
    send(res, 200, applicationResponse(app));
  }

  /**
   * The application `name` in `?appNamespace=` (Argo CD: empty means the control plane's
   * namespace) if `subject` may read it. Argo CD answers an unknown application and an
   * unreadable one alike (403 `permission denied`), so neither reveals that it exists.
   */
  private readableApp(subject: string, name: string, url: URL): FakeApplication | undefined {
    const namespace = url.searchParams.get('appNamespace') || 'argocd';
    const app = this.apps.find((a) => a.name === name && a.namespace === namespace);
    return app && this.mayRead(subject, app) ? app : undefined;
  }

  private mayRead(subject: string, app: FakeApplication): boolean {
    return app.readers.includes('*') || app.readers.includes(subject);
  }

  /**
   * The rest of the API Argo CD's web UI calls on its way to a resource's extension tab
   * (the list in ../shared/argocd-ui/v3.5.1/README.md), answered for the modelled
   * applications; true once answered. Streams (`/api/v1/stream/...`) are server-sent events
   * kept open, as grpc-gateway's StreamForwarder serves them to an EventSource.
   */
  private async handleUiApi(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    baseHRef: string,
    version = this.version,
  ): Promise<boolean> {
    const { pathname, searchParams: query } = url;
    if (pathname === '/auth/logout') {
      this.logout(req, res, baseHRef);
      return true;
    }
    if (pathname === '/api/v1/session') {
      if (req.method === 'POST') await this.createSession(req, res, baseHRef);
      // server/session/session.go Delete answers an empty SessionResponse and sets no cookie.
      else if (req.method === 'DELETE') send(res, 200, {});
      else return false;
      return true;
    }
    if (req.method !== 'GET') return false;
    // Version and Get of settings authenticate but ignore the outcome (AuthFuncOverride).
    if (pathname === '/api/version') {
      send(res, 200, versionResponse(version, this.verify(sessionToken(req)) !== undefined));
      return true;
    }
    if (pathname === '/api/v1/settings') {
      send(res, 200, settingsResponse(this.verify(sessionToken(req)) !== undefined));
      return true;
    }
    const uiRoute = UI_ROUTES.find((r) => r.pattern.test(pathname));
    if (!uiRoute) return false;
    const subject = this.authenticate(req, res);
    if (subject === undefined) return true;
    const params = uiRoute.pattern.exec(pathname)!.slice(1).map(decodeURIComponent);
    const answer = (status: number, body: unknown): boolean => {
      send(res, status, body);
      return true;
    };
    switch (uiRoute.name) {
      case 'settings-plugins':
        return answer(200, {});
      case 'projects':
        return answer(200, this.listProjects(subject));
      case 'applicationsets':
        return answer(200, { metadata: {} });
      case 'can-i':
        // The stand-in grants `logs, get` to admin alone (role:admin); the UI then shows no
        // LOGS tab to anyone else.
        return answer(200, { value: subject === 'admin' ? 'yes' : 'no' });
      case 'applications': {
        const readable = this.apps.filter((a) => this.mayRead(subject, a));
        return answer(200, applicationList(readable, query.get('fields')));
      }
      case 'stream-applications':
        this.streamApplications(res, subject, query);
        return true;
    }
    const app = this.readableApp(subject, params[0], url);
    if (!app) {
      permissionDenied(res);
      return true;
    }
    switch (uiRoute.name) {
      case 'stream-resource-tree':
        // The tree of a modelled application never changes: no event to send.
        openEventStream(res);
        return true;
      case 'resource-tree':
        return answer(200, resourceTree(app));
      case 'managed-resources':
        return answer(200, managedResources(app, query));
      case 'resource': {
        const resource = findResource(app, query);
        if (!resource) {
          // server/application/application.go getAppLiveResource.
          const message = `${query.get('kind')} ${query.get('resourceName')} not found as part of application ${app.name}`;
          return answer(404, { error: message, code: 5, message });
        }
        return answer(200, { manifest: JSON.stringify(liveObject(app, resource)) });
      }
      case 'events':
        return answer(200, { metadata: {}, items: [] });
      case 'links':
      case 'resource-links':
        return answer(200, { items: [] });
      case 'resource-actions':
        return answer(200, {});
      case 'syncwindows':
        return answer(200, { activeWindows: [], assignedWindows: [], canSync: true });
      case 'revision-metadata': {
        const metadata = revisionMetadata(app, params[1]);
        if (!metadata) {
          const message = `revision ${params[1]} not found in history of ${app.name}`;
          return answer(404, { error: message, code: 5, message });
        }
        return answer(200, metadata);
      }
    }
    return false;
  }

  /**
   * GET /api/v1/stream/applications (server/application/application.go Watch): for one
   * application (`?name=`), or without `?resourceVersion=`, an ADDED event per application the
   * caller may read first, then the changes (there are none here).
   */
  private streamApplications(res: http.ServerResponse, subject: string, query: URLSearchParams) {
    const name = query.get('name');
    const namespace = query.get('appNamespace') || 'argocd';
    openEventStream(res);
    if (query.get('resourceVersion') && !name) return;
    const apps = this.apps
      .filter(
        (a) =>
          this.mayRead(subject, a) && (!name || (a.name === name && a.namespace === namespace)),
      )
      // sort.Slice by QualifiedName: byte order.
      .sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1));
    for (const app of apps) {
      const event = { result: { type: 'ADDED', application: applicationResponse(app) } };
      res.write(`data: ${JSON.stringify(event)}\n\n`);
    }
  }

  /** GET /api/v1/projects (server/project/project.go List): the projects the caller may get. */
  private listProjects(subject: string): Record<string, unknown> {
    const items = this.projects
      .filter((p) => this.allows(subject, 'projects', p.name))
      .map(projectResponse);
    return { metadata: {}, items };
  }

  /**
   * POST /api/v1/session (server/session/session.go Create): a local user's name and password
   * for a session token (sub `<user>:login`, 24 h: argocd-cm `users.session.duration`), which
   * the gateway also sets as the argocd.token cookie (translateGrpcCookieHeader).
   */
  private async createSession(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    baseHRef: string,
  ): Promise<void> {
    let body = '';
    req.setEncoding('utf8');
    for await (const chunk of req) {
      body += chunk;
      if (body.length > 64 * 1024) break;
    }
    let credentials: { username?: unknown; password?: unknown } = {};
    try {
      credentials = JSON.parse(body) as typeof credentials;
    } catch {
      // an unreadable body has no credentials
    }
    const { username, password } = credentials;
    if (typeof username !== 'string' || typeof password !== 'string' || !username || !password) {
      return send(res, 401, unauthenticated('no credentials supplied'));
    }
    if (this.localUsers.get(username) !== password) {
      // util/session/sessionmanager.go invalidLoginError: never says which of the two was wrong.
      return send(res, 401, unauthenticated('Invalid username or password'));
    }
    const token = signLocalToken(
      { sub: `${username}:login`, exp: Math.floor(Date.now() / 1000) + 24 * 3600 },
      { secret: this.secret },
    );
    res.setHeader('set-cookie', setTokenCookie(token, baseHRef));
    send(res, 200, { token });
  }

  /**
   * /auth/logout (server/logout/logout.go ServeHTTP, for a local session): empties every
   * argocd.token cookie on the base href's path, revokes the token and redirects to the
   * server's own URL (argocd-cm `url` is unset here: `http://<host>/<root path>`).
   */
  private logout(req: http.IncomingMessage, res: http.ServerResponse, baseHRef: string): void {
    const cookies = parseCookies(req.headers.cookie);
    const joined = joinCookies(AUTH_COOKIE, cookies);
    if (joined.error !== undefined || !joined.token) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`Failed to retrieve ArgoCD auth token${joined.error ? `: ${joined.error}` : ''}\n`);
      return;
    }
    const path = `/${baseHRef.replace(/^\/+|\/+$/g, '')}`;
    const cleared = [...cookies.keys()]
      .filter((name) => name.startsWith(AUTH_COOKIE))
      .map((name) => `${name}=; Path=${path}`);
    if (this.verify(joined.token) !== undefined) this.revokeToken(joined.token);
    const root = path === '/' ? '' : path;
    res.writeHead(303, {
      location: `http://${req.headers.host ?? ''}${root}`,
      'set-cookie': cleared,
    });
    res.end();
  }

  /**
   * server/server.go (*ArgoCDServer).getClaims: the caller's subject, or undefined after
   * answering 401 (a revoked, forged or expired token).
   */
  private authenticate(req: http.IncomingMessage, res: http.ServerResponse): string | undefined {
    const token = sessionToken(req);
    if (token === undefined) {
      // util/session ErrNoSession.
      send(res, 401, unauthenticated('no session information'));
      return undefined;
    }
    if (this.revoked.has(token)) {
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
      const iat = issuedAt(sessionToken(req));
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
    const token = sessionToken(req);
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

/** common.AuthCookieName. */
const AUTH_COOKIE = 'argocd.token';

/** The UI's API routes beyond the ones the sidecar uses; parameters are the capture groups. */
const UI_ROUTES: { name: string; pattern: RegExp }[] = [
  { name: 'settings-plugins', pattern: /^\/api\/v1\/settings\/plugins$/ },
  { name: 'projects', pattern: /^\/api\/v1\/projects$/ },
  { name: 'applicationsets', pattern: /^\/api\/v1\/applicationsets$/ },
  { name: 'can-i', pattern: /^\/api\/v1\/account\/can-i\/[^/]+\/[^/]+\/.+$/ },
  { name: 'applications', pattern: /^\/api\/v1\/applications$/ },
  { name: 'stream-applications', pattern: /^\/api\/v1\/stream\/applications$/ },
  {
    name: 'stream-resource-tree',
    pattern: /^\/api\/v1\/stream\/applications\/([^/]+)\/resource-tree$/,
  },
  { name: 'resource-tree', pattern: /^\/api\/v1\/applications\/([^/]+)\/resource-tree$/ },
  { name: 'managed-resources', pattern: /^\/api\/v1\/applications\/([^/]+)\/managed-resources$/ },
  { name: 'resource', pattern: /^\/api\/v1\/applications\/([^/]+)\/resource$/ },
  { name: 'events', pattern: /^\/api\/v1\/applications\/([^/]+)\/events$/ },
  { name: 'links', pattern: /^\/api\/v1\/applications\/([^/]+)\/links$/ },
  { name: 'resource-links', pattern: /^\/api\/v1\/applications\/([^/]+)\/resource\/links$/ },
  { name: 'resource-actions', pattern: /^\/api\/v1\/applications\/([^/]+)\/resource\/actions$/ },
  { name: 'syncwindows', pattern: /^\/api\/v1\/applications\/([^/]+)\/syncwindows$/ },
  {
    name: 'revision-metadata',
    pattern: /^\/api\/v1\/applications\/([^/]+)\/revisions\/([^/]+)\/metadata$/,
  },
];

function unauthenticated(message: string): { error: string; code: number; message: string } {
  return { error: message, code: 16, message };
}

function permissionDenied(res: http.ServerResponse): void {
  send(res, 403, { error: 'permission denied', code: 7, message: 'permission denied' });
}

/**
 * A server-sent event stream, headers sent at once (as argoproj/pkg grpc/http StreamForwarder
 * sets them for an EventSource) and kept open: the UI re-requests a stream that ends or fails
 * in a tight loop (applications-service.ts repeat()/retry()).
 */
function openEventStream(res: http.ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-content-type-options': 'nosniff',
  });
  res.flushHeaders();
}

/**
 * The Cookie header's pairs by name, values not decoded (Go's (*http.Request).Cookies); of
 * two with one name the later wins, as in JoinCookies' map.
 */
function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return cookies;
}

/**
 * util/http JoinCookies: the token in `argocd.token`, or, when that reads `<N>:<part>`, the
 * parts of `argocd.token`, `argocd.token-1`, ... `argocd.token-<N-1>` joined.
 */
function joinCookies(
  key: string,
  cookies: Map<string, string>,
): { token?: string; error?: string } {
  const first = cookies.get(key);
  if (first === undefined) return { error: `failed to retrieve cookie ${key}` };
  const parts = first.split(':');
  if (parts.length > 2) return { error: `invalid cookie for key ${key}` };
  if (parts.length === 2 && !/^[+-]?\d+$/.test(parts[0]))
    return { error: `strconv.Atoi: parsing "${parts[0]}": invalid syntax` };
  const count = parts.length === 2 ? Number(parts[0]) : 1;
  let token = parts[parts.length - 1];
  for (let i = 1; i < count; i++) token += cookies.get(`${key}-${i}`) ?? '';
  return { token };
}

/** util/jwt IsValid: three dot-separated parts. */
function looksLikeJwt(token: string): boolean {
  return token.split('.').length >= 3;
}

/**
 * server/server.go getToken: `Authorization: Bearer <jwt>` first, then the (chunked)
 * argocd.token cookie.
 */
function sessionToken(req: http.IncomingMessage): string | undefined {
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (bearer !== undefined && looksLikeJwt(bearer)) return bearer;
  const { token } = joinCookies(AUTH_COOKIE, parseCookies(req.headers.cookie));
  return token !== undefined && looksLikeJwt(token) ? token : undefined;
}

/**
 * util/http SetTokenCookie for plain HTTP (argocd-server --insecure: no Secure flag): the
 * cookie's path is the base href, the token chunked as splitCookie does.
 */
function setTokenCookie(token: string, baseHRef: string): string[] {
  const path = baseHRef.replace(/^\/+|\/+$/g, '');
  return splitTokenCookie(token, `path=/${path}; SameSite=lax; httpOnly`);
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
