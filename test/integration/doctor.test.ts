import { spawn, spawnSync } from 'child_process';
import { EchoBackend } from '../helpers/echo-backend';
import { accountGrants, EXTENSION_PROXY_ACCOUNT, FakeArgoCD } from '../helpers/fake-argocd';
import { localSession, signLocalToken, TEST_SERVER_SECRET } from '../helpers/local-tokens';
import { ArgoCDConfig } from '../helpers/mounted-dir';
import { freePort } from '../helpers/processes';
import { BIN } from '../helpers/sidecar-process';

/** What policy.extension-proxy.csv grants the extension proxy's account (docs/install.md). */
const ACCOUNT_POLICY = [
  'p, extension-proxy, projects, get, *, allow',
  'p, extension-proxy, clusters, get, *, allow',
].join('\n');

/** `argocd-extension-proxy doctor`: every kind of finding, from real config directories. */
describe('doctor', () => {
  const backend = new EchoBackend();
  const argocd = new FakeArgoCD();
  const configs: ArgoCDConfig[] = [];
  beforeAll(async () => {
    await backend.start();
    await argocd.start();
  });
  afterAll(async () => {
    await backend.stop();
    await argocd.stop();
    for (const c of configs) c.remove();
  });

  /** The Argo CD API and the account token, as the sidecar container gives them. */
  // Asynchronous: the echo backend and the Argo CD stand-in it probes run in this process.
  const doctor = (config: ArgoCDConfig, ...extra: string[]) =>
    run([...config.flags, ...argocd.sidecarFlags(), ...extra]);
  const run = (args: string[]) =>
    new Promise<{ code: number | null; lines: string[] }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'doctor', ...args]);
      let out = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => (out += d));
      child.stderr.resume();
      child.on('close', (code) => resolve({ code, lines: out.split('\n').filter(Boolean) }));
    });
  const make = (
    cm: Record<string, string>,
    policy: string,
    secret: Record<string, string> = {},
  ) => {
    const config = new ArgoCDConfig({
      // The extension proxy's account, as the install step declares it.
      cm: { [`accounts.${EXTENSION_PROXY_ACCOUNT}`]: 'apiKey', ...cm },
      rbac: { 'policy.csv': policy, 'policy.extension-proxy.csv': ACCOUNT_POLICY },
      secret: { 'server.secretkey': TEST_SERVER_SECRET, ...secret },
    });
    configs.push(config);
    return config;
  };

  it('reports a healthy configuration: who can invoke what, and a backend that answers', async () => {
    const closed = await freePort();
    const config = make(
      {
        'extension.config': `extensions:
- name: anomaly
  backend:
    services:
    - url: ${backend.url}/api
      headers:
      - name: Authorization
        value: $anomaly.token
- name: metrics
  backend:
    services:
    - url: http://prometheus.internal:9090
      delegate: onprem
- name: down
  backend:
    services:
    - url: http://127.0.0.1:${closed}
`,
      },
      [
        'p, role:sre, extensions, invoke, anomaly, allow',
        'p, role:sre, extensions, invoke, metrics, allow',
        'p, role:sre, extensions, invoke, down, allow',
        'g, my-org:sre, role:sre',
        'g, carol, role:sre',
      ].join('\n'),
      { 'anomaly.token': 'secret-value-1a2b', 'delegate.onprem.token': 'tok' },
    );
    const { code, lines } = await doctor(config, '--timeout', '1s');
    expect(code).toBe(0);
    expect(lines).toContain(
      'OK    rbac: extension anomaly can be invoked by carol, my-org:sre (users or groups)',
    );
    expect(lines).toContain(
      'OK    backend: extension metrics, http://prometheus.internal:9090/: through delegate onprem (not checked from here)',
    );
    expect(
      lines.some((l) =>
        l.startsWith(`OK    backend: extension anomaly, ${backend.url}/api: answers (HTTP 200)`),
      ),
    ).toBe(true);
    expect(
      lines.some((l) =>
        l.startsWith(
          `WARN  backend: extension down, http://127.0.0.1:${closed}/: cannot be reached from here (ECONNREFUSED) — fix:`,
        ),
      ),
    ).toBe(true);
    expect(lines.join('\n')).not.toContain('secret-value-1a2b');
    expect(lines.at(-1)).toBe('0 error(s), 1 warning(s)');
  });

  it("checks the extension proxy's Argo CD account: its token, argocd-cm, its grants, and Argo CD's answers", async () => {
    const config = make({ 'extension.config.open': `services:\n- url: ${backend.url}\n` }, '');
    argocd.requests.length = 0;
    const { code, lines } = await doctor(config, '--timeout', '1s');
    expect(lines.filter((l) => l.includes('destination-check'))).toEqual([
      'OK    destination-check: --argocd-token-file holds an API key of account extension-proxy',
      'OK    destination-check: argocd-cm declares the account extension-proxy with apiKey',
      'OK    destination-check: the policy lets account extension-proxy projects, get on every object',
      'OK    destination-check: the policy lets account extension-proxy clusters, get on every object',
      'OK    destination-check: Argo CD lists 1 cluster(s) to account extension-proxy',
      'OK    destination-check: Argo CD lets account extension-proxy read project default',
    ]);
    expect(code).toBe(0);
    // With the account's token, and nothing but it, to --argocd-server only.
    expect(argocd.requests).toEqual([
      { path: '/api/v1/clusters', authorization: `Bearer ${argocd.accountToken()}` },
      { path: '/api/v1/projects/default', authorization: `Bearer ${argocd.accountToken()}` },
    ]);
    expect(lines.join('\n')).not.toContain(argocd.accountToken());
    // --no-network: the configuration is checked, the API is not called.
    argocd.requests.length = 0;
    const offline = await doctor(config, '--no-network');
    expect(offline.lines).toContain(
      'OK    destination-check: the Argo CD API was not called (--no-network)',
    );
    expect(argocd.requests).toEqual([]);
  });

  it('reports what keeps the destination check from working, each with a fix', async () => {
    const open = { 'extension.config.open': `services:\n- url: ${backend.url}\n` };
    const errorsOf = (lines: string[]) =>
      lines.filter((l) => l.startsWith('ERROR destination-check:'));

    // No --argocd-token-file at all.
    const unconfigured = (await run([...make(open, '').flags, '--no-network'])).lines.join('\n');
    expect(unconfigured).toMatch(
      /^ERROR destination-check: no --argocd-token-file: the sidecar cannot read projects and clusters, so every extension request gets 503 — fix: create the account's token and the Secret argocd-extension-proxy-api-token/m,
    );

    // The account neither declared nor granted anything.
    const bare = new ArgoCDConfig({
      cm: open,
      rbac: { 'policy.csv': '' },
      secret: { 'server.secretkey': TEST_SERVER_SECRET },
    });
    configs.push(bare);
    const undeclared = await doctor(bare, '--no-network');
    expect(undeclared.code).toBe(1);
    expect(errorsOf(undeclared.lines)).toEqual([
      'ERROR destination-check: argocd-cm does not declare the account extension-proxy (accounts.extension-proxy) — fix: add "accounts.extension-proxy: apiKey" to argocd-cm (docs/install.md, "The extension proxy\'s Argo CD account")',
      'ERROR destination-check: the policy does not let account extension-proxy projects, get: every extension request will get 503 — fix: add "p, extension-proxy, projects, get, *, allow" to policy.extension-proxy.csv in argocd-rbac-cm',
      'ERROR destination-check: the policy does not let account extension-proxy clusters, get: every extension request will get 503 — fix: add "p, extension-proxy, clusters, get, *, allow" to policy.extension-proxy.csv in argocd-rbac-cm',
    ]);

    // Clusters narrowed, and more than it needs (a role), in the policy; Argo CD denies the
    // project and lists no cluster.
    const narrowed = make(open, 'g, extension-proxy, role:admin');
    narrowed.rbac.update({
      'policy.csv': '',
      'policy.extension-proxy.csv':
        'p, extension-proxy, projects, get, *, allow\np, extension-proxy, clusters, get, https://kubernetes.default.svc, allow\np, extension-proxy, applications, sync, *, allow',
    });
    argocd.grants = [];
    try {
      const refused = await doctor(narrowed, '--timeout', '1s');
      expect(refused.code).toBe(1);
      expect(errorsOf(refused.lines)).toEqual([
        'ERROR destination-check: the policy lets account extension-proxy clusters, get only on some objects: Argo CD\'s cluster list leaves the others out, so destinations cannot be resolved as Argo CD resolves them — fix: grant "p, extension-proxy, clusters, get, *, allow"',
        'ERROR destination-check: Argo CD lists no clusters to account extension-proxy: every extension request will get 503 — fix: add "p, extension-proxy, clusters, get, *, allow" to policy.extension-proxy.csv',
        expect.stringMatching(
          /^ERROR destination-check: Argo CD denied account extension-proxy: GET \/api\/v1\/projects\/default answered 403 \(permission denied: projects, get, default, sub: extension-proxy, iat: [0-9T:-]+Z\) — fix: add policy.extension-proxy.csv to argocd-rbac-cm/,
        ),
      ]);
      expect(refused.lines).toContain(
        'WARN  destination-check: account extension-proxy may also applications, sync: it needs only projects, get and clusters, get — fix: give it no role and no other lines than those of policy.extension-proxy.csv (check policy.default, which applies to it too)',
      );
    } finally {
      argocd.grants = accountGrants(EXTENSION_PROXY_ACCOUNT);
    }

    // A token Argo CD does not accept, and one that is not an API key.
    const config = make(open, '');
    const forged = signLocalToken({ sub: 'extension-proxy:apiKey' }, { secret: 'other' });
    const rejected = (
      await doctor(
        config,
        '--argocd-token-file',
        argocd.accountTokenFile(forged),
        '--timeout',
        '1s',
      )
    ).lines;
    expect(errorsOf(rejected)).toEqual([
      'ERROR destination-check: Argo CD refused the token: GET /api/v1/clusters answered 401 (invalid session: token signature is invalid) — fix: generate a new token (argocd account generate-token --account extension-proxy) and update the Secret argocd-extension-proxy-api-token',
      'ERROR destination-check: Argo CD refused the token: GET /api/v1/projects/default answered 401 (invalid session: token signature is invalid) — fix: generate a new token (argocd account generate-token --account extension-proxy) and update the Secret argocd-extension-proxy-api-token',
    ]);
    const login = make(open, '');
    const session = (
      await doctor(
        login,
        '--argocd-token-file',
        argocd.accountTokenFile(localSession('extension-proxy')),
        '--no-network',
      )
    ).lines.join('\n');
    expect(session).toContain('ERROR destination-check: the token in ');
    expect(session).toContain("is not an account's API key (its subject is extension-proxy:login)");
    argocd.accountTokenFile(argocd.accountToken());
  });

  it('warns about a policy.default that lets everyone in, a literal "*" subject, and an extension nobody can invoke', async () => {
    const config = make(
      {
        'extension.config.open': `services:\n- url: ${backend.url}\n`,
        'extension.config.locked': `services:\n- url: ${backend.url}\n`,
      },
      // A typo: meant "role:*"-ish, wrote "*" as the subject.
      'p, *, extensions, invoke, open, allow',
    );
    const { code, lines } = await doctor(config, '--no-network');
    expect(code).toBe(0);
    // Argo CD matches subjects literally: "*" grants nobody (the typo locks everyone out).
    expect(lines).toContain(
      'WARN  rbac: "p, *, extensions, invoke, open, allow": a subject is matched literally, so "*" matches only a user or group with that exact name — fix: name the role, user or group; to grant every user, use policy.default (deliberately)',
    );
    expect(lines).toContain('OK    rbac: extension open can be invoked by * (users or groups)');
    expect(lines).toContain(
      'WARN  rbac: nobody can invoke extension locked (Argo CD\'s built-in policy grants no extensions) — fix: add e.g. "p, role:admin, extensions, invoke, locked, allow" to policy.csv',
    );
    const withDefault = new ArgoCDConfig({
      cm: { 'extension.config.open': `services:\n- url: ${backend.url}\n` },
      rbac: {
        'policy.csv': 'p, role:viewer, extensions, invoke, *, allow',
        'policy.default': 'role:viewer',
      },
      secret: { 'server.secretkey': TEST_SERVER_SECRET },
    });
    configs.push(withDefault);
    const everyoneGroup = make(
      { 'extension.config.open': `services:\n- url: ${backend.url}\n` },
      'p, role:admin, extensions, invoke, *, allow\ng, system:authenticated, role:admin',
    );
    expect((await doctor(everyoneGroup, '--no-network')).lines).toContain(
      'WARN  rbac: "g, system:authenticated, role:admin": "system:authenticated" looks like a group every user is in, so every user gets role:admin — fix: assign the role to a specific group; to grant every user deliberately, use policy.default',
    );
    expect((await doctor(withDefault, '--no-network')).lines).toContain(
      'WARN  rbac: every authenticated user can invoke extension open: policy.default (role:viewer) grants it — fix: if that is not intended, grant extensions, invoke, open to a role and assign the role with g lines',
    );
  });

  it('exits 1 with one line per error: bad config, missing secret reference, bad policy, no server key', async () => {
    const config = new ArgoCDConfig({
      cm: {
        'extension.config.x': `services:\n- url: ${backend.url}\n  headers:\n  - name: Authorization\n    value: $missing.key\n`,
        'extension.config.y': 'services: [',
      },
      rbac: { 'policy.csv': 'p, alice, extensions, invoke\n' },
      secret: { 'server.secretkey': '' },
    });
    configs.push(config);
    const { code, lines } = await doctor(config, '--no-network');
    expect(code).toBe(1);
    const errors = lines.filter((l) => l.startsWith('ERROR'));
    expect(errors.some((l) => l.includes('server.secretkey is missing or empty'))).toBe(true);
    expect(errors.some((l) => l.includes('extension.config.x') && l.includes('missing.key'))).toBe(
      true,
    );
    expect(
      errors.some((l) => l.includes('extension.config.y') && l.includes('not valid YAML')),
    ).toBe(true);
    expect(errors.some((l) => l.startsWith('ERROR argocd-rbac-cm:'))).toBe(true);
    // Each says what the running sidecar does meanwhile (objects apply on their own).
    expect(errors.find((l) => l.includes('missing.key'))).toMatch(
      /^ERROR argocd-secret: .* — fix: .*requests to extension x get 503 \(the other extensions are unaffected\)$/,
    );
    expect(errors.find((l) => l.startsWith('ERROR argocd-rbac-cm:'))).toContain(
      'until then the sidecar denies every extension request',
    );
    for (const line of errors) expect(line).toContain(' — fix: ');
    expect(lines.at(-1)).toMatch(/^[4-9] error\(s\)/);
  });

  it('names a directory it cannot read, and exits 2 on usage errors', () => {
    const config = make({}, '');
    const missing = spawnSync(
      process.execPath,
      [
        BIN,
        'doctor',
        '--argocd-cm',
        '/nonexistent/argocd-cm',
        '--argocd-rbac-cm',
        config.rbac.path,
        '--argocd-secret',
        config.secret.path,
        '--no-network',
      ],
      { encoding: 'utf8' },
    );
    expect(missing.status).toBe(1);
    expect(missing.stdout).toMatch(/^ERROR argocd-cm: .*\/nonexistent\/argocd-cm/m);
    const usage = spawnSync(process.execPath, [BIN, 'doctor', '--bogus'], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('unknown flag --bogus');
  });
});
