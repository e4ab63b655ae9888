import { writeFileSync } from 'fs';
import { Application } from '../../../proxy-server/src/argocd/application-lookup';
import { ArgoCDApi } from '../../../proxy-server/src/argocd/argocd-api';
import { ArgoCDDestinationCheck } from '../../../proxy-server/src/argocd/project-lookup';
import {
  describeError,
  NotAllowedError,
  ServiceUnavailableError,
} from '../../../proxy-server/src/errors';
import {
  accountGrants,
  defaultProject,
  EXTENSION_PROXY_ACCOUNT,
  FakeArgoCD,
} from '../../helpers/fake-argocd';
import { signLocalToken } from '../../helpers/local-tokens';

/**
 * The destination check against the Argo CD stand-in: what server/extension/extension.go
 * (*Manager).authorize decides with argo.GetDestinationCluster and
 * AppProject.IsDestinationPermitted, read through GET /api/v1/projects/{name} and
 * GET /api/v1/clusters with the extension proxy's own account.
 */
describe('ArgoCDDestinationCheck', () => {
  const argocd = new FakeArgoCD();
  let api: ArgoCDApi;
  let now = 1_000_000;
  const clock = () => now;

  const app = (
    destination: Application['destination'],
    project = 'team-a',
    name = 'payments',
  ): Application => ({ name, namespace: 'argocd', project, destination });

  beforeAll(async () => {
    await argocd.start();
    api = new ArgoCDApi({ baseUrl: argocd.url });
  });
  afterAll(async () => {
    api.close();
    await argocd.stop();
  });
  beforeEach(() => {
    argocd.requests.length = 0;
    argocd.delayMs = 0;
    argocd.pathFailures.clear();
    argocd.accountTokenFile(argocd.accountToken());
    argocd.grants = accountGrants(EXTENSION_PROXY_ACCOUNT);
    argocd.inClusterEnabled = true;
    argocd.setProjects([
      defaultProject(),
      {
        name: 'team-a',
        destinations: [{ server: 'https://remote.example.com', namespace: 'a-*' }],
      },
    ]);
    argocd.setClusters([{ server: 'https://remote.example.com', name: 'remote' }]);
  });

  const check = (options: { ttl?: number; tokenFile?: string | null } = {}) =>
    new ArgoCDDestinationCheck({
      api,
      tokenFile:
        options.tokenFile === null ? undefined : (options.tokenFile ?? argocd.accountTokenFile()),
      cacheTtlMs: options.ttl ?? 5000,
      now: clock,
    });

  it('reads the project and the cluster list with the account token, then answers from the cache without a promise', async () => {
    const c = check();
    const payments = app({ name: 'remote', namespace: 'a-payments' });
    expect(c.permittedCached(payments)).toBeUndefined();
    await expect(c.check(payments)).resolves.toBeUndefined();
    expect(argocd.requests.map((r) => r.path).sort()).toEqual([
      '/api/v1/clusters',
      '/api/v1/projects/team-a',
    ]);
    for (const r of argocd.requests) {
      expect(r.authorization).toBe(`Bearer ${argocd.accountToken()}`);
    }
    expect(c.permittedCached(payments)).toBe(true);
    // Another application with a destination of its own: decided from the same data.
    expect(c.permittedCached(app({ server: 'https://remote.example.com', namespace: 'a-x' }))).toBe(
      true,
    );
    expect(argocd.requests).toHaveLength(2);
  });

  it('refuses, from the cache too, a destination the project does not permit (403 naming project and destination)', async () => {
    const c = check();
    const outside = app({ name: 'remote', namespace: 'kube-system' });
    const refusal = c.check(outside);
    await expect(refusal).rejects.toBeInstanceOf(NotAllowedError);
    await expect(refusal).rejects.toThrow(
      "application argocd/payments's destination (cluster remote, namespace kube-system) is not permitted by project team-a",
    );
    expect(() => c.permittedCached(outside)).toThrow(
      "application argocd/payments's destination (cluster remote, namespace kube-system) is not permitted by project team-a",
    );
    // The log has Argo CD's own reason.
    await expect(c.check(outside).catch(describeError)).resolves.toContain(
      'the provided project is not allowed to access the cluster configured in the Application destination',
    );
  });

  it('takes a narrowed project into account once the cached copy expires, not before', async () => {
    const c = check({ ttl: 5000 });
    const payments = app({ name: 'remote', namespace: 'a-payments' });
    await c.check(payments);
    argocd.setProjects([
      {
        name: 'team-a',
        destinations: [{ server: 'https://remote.example.com', namespace: 'a-other' }],
      },
    ]);
    now += 4999;
    expect(c.permittedCached(payments)).toBe(true);
    now += 2;
    expect(c.permittedCached(payments)).toBeUndefined();
    await expect(c.check(payments)).rejects.toThrow('is not permitted by project team-a');
  });

  it('refuses a destination that is not a registered cluster, by name or by server (403)', async () => {
    const c = check();
    await expect(
      c.check(app({ name: 'ghost', namespace: 'a-x' }, 'default')),
    ).rejects.toMatchObject({
      name: 'NotAllowedError',
      message:
        "application argocd/payments's destination (cluster ghost, namespace a-x) is not a cluster registered in Argo CD",
    });
    const byServer = c.check(app({ server: 'https://ghost.example.com' }, 'default'));
    await expect(byServer).rejects.toBeInstanceOf(NotAllowedError);
    await expect(byServer.catch(describeError)).resolves.toContain(
      'error getting destination cluster: error getting cluster by server "https://ghost.example.com": rpc error: code = NotFound desc = cluster "https://ghost.example.com" not found',
    );
    // A disabled in-cluster is not listed: an application deployed there is refused.
    argocd.inClusterEnabled = false;
    await expect(
      check().check(app({ server: 'https://kubernetes.default.svc' }, 'default')),
    ).rejects.toThrow('is not a cluster registered in Argo CD');
  });

  it('answers 403 naming the project when the application names one that does not exist (Argo CD: 404)', async () => {
    const c = check();
    const orphan = app({ name: 'remote' }, 'gone');
    await expect(c.check(orphan)).rejects.toMatchObject({
      name: 'NotAllowedError',
      message: 'application argocd/payments names project gone, which does not exist',
    });
    // Argo CD's answer is cached like a project.
    expect(() => c.permittedCached(orphan)).toThrow('names project gone, which does not exist');
  });

  it.each([
    [
      'the account may not get the project (403 permission denied)',
      () =>
        (argocd.grants = [{ subject: EXTENSION_PROXY_ACCOUNT, resource: 'clusters', object: '*' }]),
      "Argo CD refused the extension proxy's account (projects, get): check --argocd-token-file and policy.extension-proxy.csv",
      'Argo CD answered 403: permission denied: projects, get, team-a, sub: extension-proxy, iat: ',
    ],
    [
      'the token is not accepted (401)',
      () =>
        argocd.accountTokenFile(signLocalToken({ sub: 'extension-proxy:apiKey' }, { secret: 'x' })),
      "Argo CD refused the extension proxy's account (projects, get): check --argocd-token-file and policy.extension-proxy.csv",
      'Argo CD answered 401: invalid session: token signature is invalid',
    ],
    [
      'the account may get no cluster (an empty list, never a 403)',
      () =>
        (argocd.grants = [{ subject: EXTENSION_PROXY_ACCOUNT, resource: 'projects', object: '*' }]),
      "Argo CD lists no clusters to the extension proxy's account: check that policy.extension-proxy.csv grants clusters, get, *",
      '',
    ],
    [
      'the cluster list fails',
      () => argocd.pathFailures.set('/api/v1/clusters', 500),
      "the destination check cannot read Argo CD's cluster list: Argo CD answered 500; try again shortly",
      'Argo CD answered 500: internal',
    ],
    [
      'the project cannot be read',
      () => argocd.pathFailures.set('/api/v1/projects/team-a', 502),
      'the destination check cannot read project team-a: Argo CD answered 502; try again shortly',
      'Argo CD answered 502',
    ],
  ])(
    'fails closed with 503 naming the cause when %s, and does not cache it',
    async (_case, breakIt, message, logged) => {
      const c = check();
      const payments = app({ name: 'remote', namespace: 'a-payments' });
      breakIt();
      const failure = c.check(payments);
      await expect(failure).rejects.toMatchObject({ name: 'ServiceUnavailableError', message });
      await expect(failure.catch(describeError)).resolves.toContain(logged);
      expect(c.permittedCached(payments)).toBeUndefined();
      // Fixed: the next request reads again and passes.
      argocd.grants = accountGrants(EXTENSION_PROXY_ACCOUNT);
      argocd.pathFailures.clear();
      argocd.accountTokenFile(argocd.accountToken());
      await expect(c.check(payments)).resolves.toBeUndefined();
    },
  );

  it('answers 503 naming --argocd-token-file when it is not given, or cannot be read', async () => {
    const unconfigured = check({ tokenFile: null });
    const payments = app({ name: 'remote', namespace: 'a-payments' });
    const expected =
      'the destination check is not configured: start the extension proxy with --argocd-token-file (the API token of an Argo CD account that may get projects and clusters)';
    expect(() => unconfigured.permittedCached(payments)).toThrow(ServiceUnavailableError);
    expect(() => unconfigured.permittedCached(payments)).toThrow(expected);
    await expect(unconfigured.check(payments)).rejects.toThrow(expected);
    expect(argocd.requests).toHaveLength(0);

    const missing = check({ tokenFile: '/nonexistent/extension-proxy/token' });
    const failure = missing.check(payments);
    await expect(failure).rejects.toMatchObject({
      name: 'ServiceUnavailableError',
      message:
        "the destination check cannot read its Argo CD token (--argocd-token-file); see the extension proxy's log",
    });
    await expect(failure.catch(describeError)).resolves.toContain('ENOENT');
    // What the sidecar logs at start.
    expect(await missing.tokenProblem()).toContain('ENOENT');
    expect(await check().tokenProblem()).toBeUndefined();
  });

  it('reads a rotated token from its file without a restart, and never puts a token in an error', async () => {
    const file = argocd.accountTokenFile();
    const c = check({ ttl: 0, tokenFile: file });
    const payments = app({ name: 'remote', namespace: 'a-payments' });
    await c.check(payments);
    const rotated = signLocalToken({ sub: 'extension-proxy:apiKey', jti: 'rotated' });
    argocd.accountTokenFile(rotated);
    argocd.requests.length = 0;
    await c.check(payments);
    expect(argocd.requests.map((r) => r.authorization)).toEqual([
      `Bearer ${rotated}`,
      `Bearer ${rotated}`,
    ]);
    // A revoked token: the failure's message and its logged chain do not quote it.
    argocd.revokeToken(rotated);
    const failure = await c.check(payments).catch((err: unknown) => err);
    expect(describeError(failure)).toContain('token is revoked');
    expect(describeError(failure)).not.toContain(rotated);
    writeFileSync(file, 'not a token\n');
    const garbled = await c.check(payments).catch((err: unknown) => err);
    expect(describeError(garbled)).not.toContain('not a token');
  });

  it('shares one call per object among concurrent misses', async () => {
    argocd.delayMs = 100;
    const c = check();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        c.check(app({ name: 'remote', namespace: `a-${i}` }, 'team-a', `app-${i}`)),
      ),
    );
    expect(argocd.requests.map((r) => r.path).sort()).toEqual([
      '/api/v1/clusters',
      '/api/v1/projects/team-a',
    ]);
  });

  it('drops what it read on clearCache (configuration reload)', async () => {
    const c = check();
    const payments = app({ name: 'remote', namespace: 'a-payments' });
    await c.check(payments);
    c.clearCache();
    expect(c.permittedCached(payments)).toBeUndefined();
  });
});
