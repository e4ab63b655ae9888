import { spawn, spawnSync } from 'child_process';
import { EchoBackend } from '../helpers/echo-backend';
import { TEST_SERVER_SECRET } from '../helpers/local-tokens';
import { ArgoCDConfig } from '../helpers/mounted-dir';
import { freePort } from '../helpers/processes';
import { BIN } from '../helpers/sidecar-process';

/** `argocd-extension-proxy doctor`: every kind of finding, from real config directories. */
describe('doctor', () => {
  const backend = new EchoBackend();
  const configs: ArgoCDConfig[] = [];
  beforeAll(() => backend.start());
  afterAll(async () => {
    await backend.stop();
    for (const c of configs) c.remove();
  });

  // Asynchronous: the echo backend it probes runs in this process.
  const doctor = (config: ArgoCDConfig, ...extra: string[]) =>
    new Promise<{ code: number | null; lines: string[] }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'doctor', ...config.flags, ...extra]);
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
      cm,
      rbac: { 'policy.csv': policy },
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
