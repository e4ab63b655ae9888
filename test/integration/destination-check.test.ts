import { appHeaders, DEFAULT_APPS, DEFAULT_PROJECTS, Environment } from '../helpers/environment';
import {
  accountGrants,
  EXTENSION_PROXY_ACCOUNT,
  FakeApplication,
  FakeProject,
} from '../helpers/fake-argocd';
import { request } from '../helpers/http-client';
import { localSession } from '../helpers/local-tokens';
import { SidecarProcess } from '../helpers/sidecar-process';

const TTL_MS = 1000;
const REMOTE = 'https://remote.example.com';
const UNSERVED = 'https://unserved.example.com';

/** An application every user may read, in `project`, deployed to `destination`. */
function application(
  name: string,
  project: string,
  destination: FakeApplication['destination'],
): FakeApplication {
  return { name, namespace: 'argocd', project, destination, readers: ['*'] };
}

const APPS: FakeApplication[] = [
  application('narrowed', 'team-n', { server: REMOTE, namespace: 'payments' }),
  application('excluded', 'team-neg', { server: UNSERVED, namespace: 'x' }),
  application('included', 'team-neg', { server: REMOTE, namespace: 'x' }),
  application('named', 'by-server', { name: 'remote', namespace: 'a' }),
  application('served', 'by-name', { server: `${REMOTE}/`, namespace: 'a' }),
  application('named-elsewhere', 'by-name', { name: 'unserved', namespace: 'a' }),
  application('ghost-by-name', 'default', { name: 'ghost', namespace: 'a' }),
  application('ghost-by-server', 'default', { server: 'https://ghost.example.com' }),
  application('locked', 'locked', { server: REMOTE, namespace: 'a' }),
  application('orphan', 'gone', { server: REMOTE, namespace: 'a' }),
];

const PROJECTS: FakeProject[] = [
  { name: 'team-n', destinations: [{ server: REMOTE, namespace: '*' }] },
  {
    name: 'team-neg',
    destinations: [
      { server: '*', namespace: '*' },
      { server: `!${UNSERVED}`, namespace: '*' },
    ],
  },
  { name: 'by-server', destinations: [{ server: REMOTE, namespace: '*' }] },
  { name: 'by-name', destinations: [{ name: 'remote', namespace: '*' }] },
  { name: 'locked', destinations: [{ server: '*', namespace: '*' }] },
];

/**
 * "The application's destination must be permitted by its project": the sidecar refuses
 * what server/extension/extension.go (*Manager).authorize refuses since Argo CD 3.0 — a
 * destination that util/argo GetDestinationCluster cannot resolve to a registered cluster,
 * or that v1alpha1 (AppProject).IsDestinationPermitted does not permit — reading the
 * project and the cluster list with its own account (--argocd-token-file), and fails closed
 * (503 naming the cause) when it cannot read them.
 */
describe('the destination check', () => {
  const env = new Environment();
  const alice = localSession('alice');

  beforeAll(async () => {
    await env.start({ extraFlags: ['--application-cache-ttl', `${TTL_MS}ms`] });
    env.argocd.setApplications([...DEFAULT_APPS, ...APPS]);
    env.argocd.setProjects([...DEFAULT_PROJECTS, ...PROJECTS]);
  });
  afterAll(() => env.stop());

  const call = (app: string, project: string, token = alice) =>
    request(`${env.sidecar.url}/extensions/anomaly/x`, {
      headers: { cookie: `argocd.token=${token}`, ...appHeaders(`argocd:${app}`, project) },
    });
  const backendRequests = () => env.backend.seen.length;
  const afterTtl = () => new Promise((resolve) => setTimeout(resolve, TTL_MS + 100));

  it('mirrors (*Manager).authorize: a project narrowed after an allowed request refuses the next one after the cache TTL, and the backend sees nothing', async () => {
    expect((await call('narrowed', 'team-n')).status).toBe(200);
    env.argocd.setProjects([
      ...DEFAULT_PROJECTS,
      ...PROJECTS.map((p) =>
        p.name === 'team-n' ? { ...p, destinations: [{ server: REMOTE, namespace: 'other' }] } : p,
      ),
    ]);
    try {
      await afterTtl();
      const before = backendRequests();
      // A fresh token too: the application check's cache plays no part.
      const reply = await call('narrowed', 'team-n', localSession('alice'));
      expect(reply.status).toBe(403);
      expect(reply.json).toEqual({
        error: `application argocd/narrowed's destination (${REMOTE}, namespace payments) is not permitted by project team-n`,
        status: 403,
      });
      expect(backendRequests()).toBe(before);
      // The log has Argo CD's reason; the metric counts the refusal as the project's.
      const line = await env.sidecar.waitForLog(
        (l) => l.application === 'argocd/narrowed' && l.status === 403,
      );
      expect(line.stage).toBe('destination');
      expect(String(line.error)).toContain(
        'the provided project is not allowed to access the cluster configured in the Application destination',
      );
      const metrics = await request(`${env.sidecar.adminUrl}/metrics`);
      // Exactly one: this, the first test of the file, is where its sidecar first refuses.
      expect(metrics.body).toMatch(
        /argocd_extension_proxy_authz_denials_total\{extension="anomaly",check="project"\} 1\n/,
      );
    } finally {
      env.argocd.setProjects([...DEFAULT_PROJECTS, ...PROJECTS]);
    }
  });

  it('honours a "!" deny entry (v1alpha1 isDestinationMatched): the cluster it names is refused, others stay permitted', async () => {
    const before = backendRequests();
    const excluded = await call('excluded', 'team-neg');
    expect(excluded.status).toBe(403);
    expect(excluded.json.error).toBe(
      `application argocd/excluded's destination (${UNSERVED}, namespace x) is not permitted by project team-neg`,
    );
    expect(backendRequests()).toBe(before);
    expect((await call('included', 'team-neg')).status).toBe(200);
  });

  it('matches the resolved cluster, whether the application names it or gives its server (util/argo GetDestinationCluster)', async () => {
    // A project that lists the server permits an application that names the cluster, and one
    // that lists the name permits an application that gives the server (with a trailing slash).
    expect((await call('named', 'by-server')).status).toBe(200);
    expect((await call('served', 'by-name')).status).toBe(200);
    const elsewhere = await call('named-elsewhere', 'by-name');
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.json.error).toBe(
      "application argocd/named-elsewhere's destination (cluster unserved, namespace a) is not permitted by project by-name",
    );
  });

  it('refuses an application deployed to a cluster Argo CD does not know, by name or by server (403)', async () => {
    const before = backendRequests();
    const byName = await call('ghost-by-name', 'default');
    expect(byName.status).toBe(403);
    expect(byName.json.error).toBe(
      "application argocd/ghost-by-name's destination (cluster ghost, namespace a) is not a cluster registered in Argo CD",
    );
    const byServer = await call('ghost-by-server', 'default');
    expect(byServer.status).toBe(403);
    expect(byServer.json.error).toBe(
      "application argocd/ghost-by-server's destination (https://ghost.example.com) is not a cluster registered in Argo CD",
    );
    expect(backendRequests()).toBe(before);
    const line = await env.sidecar.waitForLog((l) => l.application === 'argocd/ghost-by-name');
    expect(String(line.error)).toContain(
      'error getting destination cluster: there are no clusters with this name: ghost',
    );
  });

  it('answers 403 naming the project when the application names one that does not exist', async () => {
    const reply = await call('orphan', 'gone');
    expect(reply.json).toEqual({
      error: 'application argocd/orphan names project gone, which does not exist',
      status: 403,
    });
  });

  it('answers 503 naming the cause when Argo CD refuses the account the project (403 permission denied)', async () => {
    // The account's policy narrowed to one project: Argo CD answers 403 for the others.
    env.argocd.grants = [
      { subject: EXTENSION_PROXY_ACCOUNT, resource: 'projects', object: 'default' },
      { subject: EXTENSION_PROXY_ACCOUNT, resource: 'clusters', object: '*' },
    ];
    try {
      const before = backendRequests();
      const reply = await call('locked', 'locked');
      expect(reply.json).toEqual({
        error:
          "Argo CD refused the extension proxy's account (projects, get): check --argocd-token-file and policy.extension-proxy.csv",
        status: 503,
      });
      expect(backendRequests()).toBe(before);
      const line = await env.sidecar.waitForLog((l) => l.application === 'argocd/locked');
      expect(line.level).toBe('error');
      expect(String(line.error)).toContain(
        'Argo CD answered 403: permission denied: projects, get, locked, sub: extension-proxy, iat: ',
      );
    } finally {
      env.argocd.grants = accountGrants(EXTENSION_PROXY_ACCOUNT);
    }
    // Not cached: fixed, it passes at once.
    expect((await call('locked', 'locked')).status).toBe(200);
  });

  it("answers 503 naming the cause when Argo CD's cluster list cannot be read", async () => {
    env.argocd.pathFailures.set('/api/v1/clusters', 500);
    try {
      await afterTtl();
      const before = backendRequests();
      const reply = await call('guestbook', 'default');
      expect(reply.json).toEqual({
        error:
          "the destination check cannot read Argo CD's cluster list: Argo CD answered 500; try again shortly",
        status: 503,
      });
      expect(backendRequests()).toBe(before);
    } finally {
      env.argocd.pathFailures.clear();
    }
    expect((await call('guestbook', 'default')).status).toBe(200);
  });

  it('reads projects and clusters with the account token, from --argocd-server only, and never logs it', async () => {
    // A request of its own: its destination check reads project by-server and the cluster
    // list (to resolve the cluster the application names).
    expect((await call('named', 'by-server', localSession('alice'))).status).toBe(200);
    const token = env.argocd.accountToken();
    const reads = env.argocd.requests.filter((r) => r.authorization === `Bearer ${token}`);
    expect(new Set(reads.map((r) => r.path.replace(/\/projects\/.*/, '/projects/*')))).toEqual(
      new Set(['/api/v1/clusters', '/api/v1/projects/*']),
    );
    // The account token goes nowhere else: not to the application check, not to a backend.
    expect(
      env.argocd.requests.filter((r) => r.path.startsWith('/api/v1/applications/')),
    ).not.toContainEqual(expect.objectContaining({ authorization: `Bearer ${token}` }));
    expect(JSON.stringify(env.backend.seen.map((r) => r.headers))).not.toContain(token);
    expect(env.sidecar.output()).not.toContain(token);
    expect(env.sidecar.output()).not.toContain(token.split('.')[2]);
  });

  it('without --argocd-token-file: starts, logs why, and answers every request 503 naming the flag', async () => {
    const sidecar = new SidecarProcess([...env.config.flags, '--argocd-server', env.argocd.url]);
    try {
      await sidecar.start();
      await sidecar.waitForLog(
        (l) =>
          l.level === 'error' &&
          String(l.msg).startsWith('the destination check is not configured'),
      );
      const before = backendRequests();
      const reply = await request(`${sidecar.url}/extensions/anomaly/x`, {
        headers: { cookie: `argocd.token=${alice}`, ...appHeaders('argocd:guestbook', 'default') },
      });
      expect(reply.json).toEqual({
        error:
          'the destination check is not configured: start the extension proxy with --argocd-token-file (the API token of an Argo CD account that may get projects and clusters)',
        status: 503,
      });
      expect(backendRequests()).toBe(before);
    } finally {
      await sidecar.stop();
    }
  });
});
