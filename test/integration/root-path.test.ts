import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { EchoBackend } from '../helpers/echo-backend';
import { appHeaders, Environment } from '../helpers/environment';
import { eventually, request } from '../helpers/http-client';
import { localSession } from '../helpers/local-tokens';
import { SidecarProcess } from '../helpers/sidecar-process';

const DELEGATE_TOKEN = 'rootpath-delegate-token-6b1f0c9a2e7d4853';

/**
 * Argo CD under `server.rootpath`: the real sidecar with `--rootpath argocd/` (normalised
 * as argocd-server does) serves extensions and delegate tunnels only under /argocd/.
 */
describe('sidecar under a root path', () => {
  const env = new Environment();
  const hidden = new EchoBackend();
  const agents: SidecarProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'rootpath-agent-'));
  const tokenFile = join(dir, 'token');
  const alice = localSession('alice');

  const call = (path: string, token = alice) =>
    request(env.sidecar.url + path, {
      headers: { cookie: `argocd.token=${token}`, ...appHeaders('argocd:guestbook', 'default') },
    });

  const startAgent = (server: string) => {
    const agent = new SidecarProcess(
      [
        '--server',
        server,
        '--name',
        'onprem',
        '--token-file',
        tokenFile,
        '--allow',
        `127.0.0.1:${hidden.port}`,
        '--reconnect-max',
        '1s',
      ],
      {},
      { command: 'delegate' },
    );
    agents.push(agent);
    return agent.start();
  };
  const connected = async () =>
    ((await request(`${env.sidecar.adminUrl}/delegates`)).json as { delegates: unknown[] })
      .delegates;

  beforeAll(async () => {
    await hidden.start();
    writeFileSync(tokenFile, `${DELEGATE_TOKEN}\n`);
    await env.start({
      extraFlags: ['--rootpath', 'argocd/'],
      secret: { 'delegate.onprem.token': DELEGATE_TOKEN },
      cm: {
        'extension.config.private': `services:\n- url: http://127.0.0.1:${hidden.port}/api\n  delegate: onprem\n`,
      },
    });
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await env.stop();
    await hidden.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('forwards /argocd/extensions/<name>/... with the path after the name, as without a root path', async () => {
    const reply = await call('/argocd/extensions/anomaly/v1/scores?from=1&to=2');
    expect(reply.status).toBe(200);
    expect((await env.backend.last()).url).toBe('/api/v1/scores?from=1&to=2');
  });

  it('logs the full request path', async () => {
    await call('/argocd/extensions/anomaly/logged?secret-query=1');
    await eventually(() =>
      expect(env.sidecar.loggedRequest('/argocd/extensions/anomaly/logged')).toBe(true),
    );
  });

  it.each([
    '/extensions/anomaly/v1/scores',
    '/argocdx/extensions/anomaly/',
    '/other/extensions/anomaly/',
  ])('answers 404 for %s, outside the root path, as argocd-server does', async (path) => {
    const before = env.backend.seen.length;
    const reply = await call(path);
    expect(reply.status).toBe(404);
    expect(reply.json).toEqual({
      error:
        'path is outside the root path /argocd: extension requests go to /argocd/extensions/<extension-name>/...',
      status: 404,
    });
    expect(env.backend.seen.length).toBe(before);
  });

  it('answers 400 for a path inside the root path that is not an extension request', async () => {
    const reply = await call('/argocd/api/v1/session');
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({
      error: 'path must start with /argocd/extensions/<extension-name>',
      status: 400,
    });
  });

  it('refuses a delegate agent that connects without the root path, and says why', async () => {
    const agent = await startAgent(env.sidecar.url);
    await eventually(
      () =>
        expect(agent.output()).toContain(
          'HTTP 404: path is outside the root path /argocd: extension requests go to /argocd/extensions/<extension-name>/...',
        ),
      10_000,
    );
    expect(await connected()).toEqual([]);
    await agent.stop();
  });

  it('accepts a delegate agent whose --server URL carries the root path, and proxies through it', async () => {
    await startAgent(`${env.sidecar.url}/argocd/`);
    await eventually(async () => expect(await connected()).toHaveLength(1), 15_000);
    // Only the admin role may invoke every extension (DEFAULT_POLICY).
    const reply = await call('/argocd/extensions/private/x?y=1', localSession('admin'));
    expect(reply.status).toBe(200);
    expect((await hidden.last()).url).toBe('/api/x?y=1');
  });

  it('refuses a --rootpath that is not a path with a usage error', async () => {
    const sidecar = new SidecarProcess([
      ...env.config.flags,
      '--rootpath',
      'https://argocd.example.com/argocd',
    ]);
    expect(await sidecar.runToExit()).toBe(2);
    expect(sidecar.stderr.join('\n')).toContain(
      'argocd-extension-proxy serve: --rootpath must be a path like /argocd, not a URL: "https://argocd.example.com/argocd"',
    );
  });
});
