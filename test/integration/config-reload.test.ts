import {
  appHeaders,
  BACKEND_SECRET,
  DEFAULT_POLICY,
  Environment,
  extensionConfig,
} from '../helpers/environment';
import { EchoBackend } from '../helpers/echo-backend';
import { FakeArgoCD, guestbook } from '../helpers/fake-argocd';
import { eventually, request } from '../helpers/http-client';
import { ArgoCDConfig } from '../helpers/mounted-dir';
import { localSession, signLocalToken, TEST_SERVER_SECRET } from '../helpers/local-tokens';
import { SidecarProcess } from '../helpers/sidecar-process';

const RELOAD_BUDGET_MS = 2000;

describe('configuration reload', () => {
  const env = new Environment();
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  const call = (token: string, path = '/extensions/anomaly/') =>
    request(env.sidecar.url + path, {
      headers: { cookie: `argocd.token=${token}`, ...appHeaders('argocd:guestbook', 'default') },
    });

  const metric = async (name: string): Promise<string> => {
    const text = (await request(env.sidecar.adminUrl + '/metrics')).body;
    return text
      .split('\n')
      .filter((l) => l.startsWith(name))
      .join('\n');
  };

  it('applies a policy change within 2 s', async () => {
    const bob = localSession('bob');
    expect((await call(bob)).status).toBe(403);
    env.config.rbac.update({
      'policy.csv': DEFAULT_POLICY + '\np, bob, extensions, invoke, anomaly, allow',
    });
    await eventually(async () => expect((await call(bob)).status).toBe(200), RELOAD_BUDGET_MS);
    env.config.rbac.update({ 'policy.csv': DEFAULT_POLICY });
    await eventually(async () => expect((await call(bob)).status).toBe(403), RELOAD_BUDGET_MS);
  });

  it('rotates server.secretkey: old sessions are rejected, new ones accepted', async () => {
    const old = localSession('alice');
    expect((await call(old)).status).toBe(200);
    const newKey = 'rotated-server-secretkey-91b2';
    env.config.secret.update({ 'server.secretkey': newKey, 'anomaly.token': BACKEND_SECRET });
    await eventually(async () => expect((await call(old)).status).toBe(401), RELOAD_BUDGET_MS);
    const fresh = signLocalToken({ sub: 'alice:login' }, { secret: newKey });
    // The stand-in Argo CD API still checks the old key, so the application check
    // (the next stage) fails with 401 from Argo CD: authentication itself passed.
    const reply = await call(fresh);
    expect(reply.json.error).toBe('Argo CD rejected the session; log in again');
    env.config.secret.update({
      'server.secretkey': TEST_SERVER_SECRET,
      'anomaly.token': BACKEND_SECRET,
    });
    await eventually(async () => expect((await call(old)).status).toBe(200), RELOAD_BUDGET_MS);
  });

  it('rotates a backend secret referenced by a header', async () => {
    env.config.secret.update({
      'server.secretkey': TEST_SERVER_SECRET,
      'anomaly.token': 'rotated-backend-token',
    });
    const alice = localSession('alice');
    await eventually(async () => {
      const reply = await call(alice);
      expect((reply.json.headers as Record<string, string>).authorization).toBe(
        'rotated-backend-token',
      );
    }, RELOAD_BUDGET_MS);
    env.config.secret.update({
      'server.secretkey': TEST_SERVER_SECRET,
      'anomaly.token': BACKEND_SECRET,
    });
    await eventually(async () => {
      const reply = await call(alice);
      expect((reply.json.headers as Record<string, string>).authorization).toBe(BACKEND_SECRET);
    }, RELOAD_BUDGET_MS);
  });

  // Argo CD applies each object on its own (DESIGN: Reloads): argocd-rbac-cm through its
  // own informer (util/rbac/rbac.go Enforcer.runInformer), the proxy registry from argocd-cm
  // (server/extension/extension.go UpdateExtensionRegistry keeps the previous one on error).
  it('keeps the previous extensions when extension.config breaks, and says why', async () => {
    const alice = localSession('alice');
    env.config.cm.update({ 'extension.config': 'extensions: [ {name: anomaly, backend: ' });
    const line = await env.sidecar.waitForLog(
      (l) =>
        l.msg ===
        'configuration problem in argocd-cm: the previous extension.config stays in force',
    );
    expect(line.problems).toEqual([
      expect.stringMatching(/^argocd-cm: extension\.config: is not valid YAML/),
    ]);
    expect(await metric('argocd_extension_proxy_config_last_reload_successful')).toContain(
      'argocd_extension_proxy_config_last_reload_successful 0',
    );
    expect(await metric('argocd_extension_proxy_config_problems')).toContain(
      'argocd_extension_proxy_config_problems{object="argocd-cm"} 1',
    );
    expect(await metric('argocd_extension_proxy_config_reloads_total')).toMatch(
      /result="partial"} [1-9]/,
    );
    const reply = await call(alice);
    expect(reply.status).toBe(200);
    expect((reply.json.headers as Record<string, string>).authorization).toBe(BACKEND_SECRET);
    const ready = await request(env.sidecar.adminUrl + '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({
      status: 'ready',
      problems: [
        {
          object: 'argocd-cm',
          effect: 'the previous extension.config stays in force',
          problems: [expect.stringMatching(/is not valid YAML/)],
        },
      ],
    });

    env.config.cm.update({
      'extension.config': extensionConfig(env.backend.url, env.secondBackend.url),
    });
    await eventually(
      async () =>
        expect(await metric('argocd_extension_proxy_config_last_reload_successful')).toContain(
          'argocd_extension_proxy_config_last_reload_successful 1',
        ),
      RELOAD_BUDGET_MS,
    );
    expect((await request(env.sidecar.adminUrl + '/readyz')).json).toEqual({ status: 'ready' });
  });

  it('applies a revoked permission even while extension.config is broken', async () => {
    const alice = localSession('alice');
    expect((await call(alice)).status).toBe(200);
    env.config.cm.update({ 'extension.config': 'extensions: [ {name: anomaly, backend: ' });
    env.config.rbac.update({
      'policy.csv': DEFAULT_POLICY.replace('p, alice, extensions, invoke, anomaly, allow\n', ''),
    });
    await eventually(async () => expect((await call(alice)).status).toBe(403), RELOAD_BUDGET_MS);
    env.config.rbac.update({ 'policy.csv': DEFAULT_POLICY });
    env.config.cm.update({
      'extension.config': extensionConfig(env.backend.url, env.secondBackend.url),
    });
    await eventually(async () => expect((await call(alice)).status).toBe(200), RELOAD_BUDGET_MS);
  });

  // util/rbac/rbac.go: a policy Argo CD cannot load leaves it denying (fail closed).
  it('denies every invoke while the policy cannot be loaded, and says so', async () => {
    const alice = localSession('alice');
    const admin = localSession('admin');
    env.config.rbac.update({ 'policy.csv': DEFAULT_POLICY + '\np, bob, extensions, invoke' });
    await eventually(async () => expect((await call(alice)).status).toBe(403), RELOAD_BUDGET_MS);
    const seen = env.backend.seen.length;
    const reply = await call(admin);
    expect(env.backend.seen.length).toBe(seen);
    expect(reply.json).toEqual({
      error:
        'permission denied: the RBAC policy in argocd-rbac-cm cannot be loaded, so every extension request is denied until an administrator fixes it',
      status: 403,
      requiredPermission: 'extensions, invoke, anomaly',
    });
    const ready = await request(env.sidecar.adminUrl + '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json.problems).toEqual([
      {
        object: 'argocd-rbac-cm',
        effect: 'every extension request is denied',
        problems: [expect.stringMatching(/^argocd-rbac-cm: policy\.csv line 5/)],
      },
    ]);
    expect(await metric('argocd_extension_proxy_config_problems')).toContain(
      'argocd_extension_proxy_config_problems{object="argocd-rbac-cm"} 1',
    );
    expect(
      env.sidecar
        .logs()
        .some(
          (l) =>
            l.msg === 'configuration problem in argocd-rbac-cm: every extension request is denied',
        ),
    ).toBe(true);
    env.config.rbac.update({ 'policy.csv': DEFAULT_POLICY });
    await eventually(async () => expect((await call(alice)).status).toBe(200), RELOAD_BUDGET_MS);
  });

  it('refuses only the extension whose argocd-secret key is missing', async () => {
    const alice = localSession('alice');
    env.config.cm.update({
      'extension.config': extensionConfig(env.backend.url, env.secondBackend.url).replace(
        '$anomaly.token',
        '$missing.key',
      ),
    });
    await eventually(async () => expect((await call(alice)).status).toBe(503), RELOAD_BUDGET_MS);
    const reply = await call(alice);
    expect(reply.json).toEqual({
      error:
        "extension anomaly is unavailable: its configuration references an argocd-secret key that is missing or empty (see the extension proxy's log)",
      status: 503,
    });
    // The other extension is unaffected.
    expect((await call(alice, '/extensions/multi/x')).status).toBe(200);
    // Authorization comes first: a caller without the permission learns nothing more.
    expect((await call(localSession('bob'))).status).toBe(403);
    expect((await request(env.sidecar.adminUrl + '/readyz')).json.problems).toEqual([
      {
        object: 'argocd-secret',
        effect: 'requests to extension anomaly are refused (503)',
        problems: [
          'argocd-cm: extension.config: extensions[0].backend.services[0].headers[0].value references argocd-secret key "missing.key", which does not exist',
        ],
      },
    ]);
    env.config.cm.update({
      'extension.config': extensionConfig(env.backend.url, env.secondBackend.url),
    });
    await eventually(async () => expect((await call(alice)).status).toBe(200), RELOAD_BUDGET_MS);
  });
});

describe('configuration reload without polling', () => {
  // An hour between polls: within the test, only the directories' inotify watch can report
  // the kubelet-style swap of ..data.
  const env = new Environment();
  beforeAll(() => env.start({ extraFlags: ['--reload-interval', '1h'] }));
  afterAll(() => env.stop());

  it('applies a policy change as soon as the mounted directory changes', async () => {
    const bob = localSession('bob');
    const call = () =>
      request(env.sidecar.url + '/extensions/anomaly/', {
        headers: { cookie: `argocd.token=${bob}`, ...appHeaders('argocd:guestbook', 'default') },
      });
    expect((await call()).status).toBe(403);
    env.config.rbac.update({
      'policy.csv': DEFAULT_POLICY + '\np, bob, extensions, invoke, anomaly, allow',
    });
    await eventually(async () => expect((await call()).status).toBe(200), RELOAD_BUDGET_MS);
  });
});

describe('start-up', () => {
  it('exits non-zero listing every problem when there is no valid configuration', async () => {
    const config = new ArgoCDConfig({
      cm: { 'extension.config': 'extensions:\n- name: bad/name\n  backend: {services: []}\n' },
      rbac: { 'policy.csv': 'p, alice, extensions, invoke\n', 'policy.matchMode': 'fuzzy' },
      secret: {},
    });
    try {
      const sidecar = new SidecarProcess([
        ...config.flags,
        '--argocd-server',
        'http://127.0.0.1:1',
      ]);
      const code = await sidecar.runToExit();
      expect(code).toBe(1);
      const stderr = sidecar.stderr.join('\n');
      expect(stderr).toContain('configuration is invalid');
      expect(stderr).toContain('argocd-secret: server.secretkey is missing or empty');
      expect(stderr).toContain(
        'argocd-cm: extension.config: extensions[0].backend.services must list at least one service',
      );
      expect(stderr).toContain(
        'argocd-cm: extension.config: extensions[0].name "bad/name" is invalid',
      );
      expect(stderr).toMatch(/argocd-rbac-cm: policy\.csv line 1/);
      expect(stderr).toMatch(/argocd-rbac-cm: policy\.matchMode/);
      expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      config.remove();
    }
  });

  it('with --wait-for-valid-config, keeps running on a broken start (503, not ready) and serves once fixed', async () => {
    const config = new ArgoCDConfig({
      cm: { 'extension.config.anomaly': 'services: [' },
      rbac: { 'policy.csv': 'p, alice, extensions, invoke, *, allow' },
      secret: { 'server.secretkey': TEST_SERVER_SECRET },
    });
    const backend = new EchoBackend();
    await backend.start();
    const argocd = new FakeArgoCD();
    await argocd.start();
    argocd.setApplications([guestbook(['alice'])]);
    const sidecar = new SidecarProcess([
      ...config.flags,
      ...argocd.sidecarFlags(),
      '--wait-for-valid-config',
    ]);
    try {
      await sidecar.start();
      await sidecar.waitForLog(
        (l) => l.msg === 'no valid configuration; answering 503 until the configuration is fixed',
      );
      const headers = {
        cookie: `argocd.token=${localSession('alice')}`,
        'Argocd-Application-Name': 'argocd:guestbook',
        'Argocd-Project-Name': 'default',
      };
      const broken = await request(`${sidecar.url}/extensions/anomaly/x`, { headers });
      expect(broken.json).toEqual({
        error: 'the extension proxy has no valid configuration yet (see its log)',
        status: 503,
      });
      expect(broken.headers['retry-after']).toBe('5');
      expect((await request(`${sidecar.adminUrl}/readyz`)).status).toBe(503);
      expect((await request(`${sidecar.adminUrl}/healthz`)).status).toBe(200);
      config.cm.update({ 'extension.config.anomaly': `services: [{url: "${backend.url}"}]` });
      await eventually(async () => {
        expect((await request(`${sidecar.url}/extensions/anomaly/x`, { headers })).status).toBe(
          200,
        );
      }, RELOAD_BUDGET_MS);
      expect((await request(`${sidecar.adminUrl}/readyz`)).status).toBe(200);
    } finally {
      await sidecar.stop();
      await backend.stop();
      await argocd.stop();
      config.remove();
    }
  });

  it('exits non-zero naming a directory that cannot be read', async () => {
    const sidecar = new SidecarProcess([
      '--argocd-cm',
      '/nonexistent/argocd-cm',
      '--argocd-rbac-cm',
      '/nonexistent/rbac',
      '--argocd-secret',
      '/nonexistent/secret',
    ]);
    expect(await sidecar.runToExit()).toBe(1);
    expect(sidecar.stderr.join('\n')).toContain('cannot read /nonexistent/argocd-cm: ENOENT');
  });

  it('reads every flag from ARGOCD_EXTENSION_PROXY_* variables', async () => {
    const config = new ArgoCDConfig({
      cm: {},
      rbac: {},
      secret: { 'server.secretkey': TEST_SERVER_SECRET },
    });
    const sidecar = new SidecarProcess([], {
      ARGOCD_EXTENSION_PROXY_ARGOCD_CM: config.cm.path,
      ARGOCD_EXTENSION_PROXY_ARGOCD_RBAC_CM: config.rbac.path,
      ARGOCD_EXTENSION_PROXY_ARGOCD_SECRET: config.secret.path,
      ARGOCD_EXTENSION_PROXY_LOG_LEVEL: 'debug',
    });
    try {
      await sidecar.start();
      expect((await request(sidecar.adminUrl + '/readyz')).status).toBe(200);
      expect(
        sidecar
          .logs()
          .some((l) => l.level === 'warn' && String(l.warning).includes('no extension.config')),
      ).toBe(true);
    } finally {
      await sidecar.stop();
      config.remove();
    }
  });
});
