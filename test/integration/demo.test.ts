import { ChildProcess, spawn } from 'child_process';
import net from 'net';
import { mkdirSync } from 'fs';
import { join } from 'path';
import { launchChromium } from '../helpers/chromium';
import { request } from '../helpers/http-client';
import { REPO_ROOT } from '../helpers/sidecar-process';

/**
 * `npm start` (dist/scripts/start.js, built by npm test): one origin with a login page that
 * issues real sessions, the tab's API through the real sidecar to the real anomaly backend
 * on sample data; alice gets data, bob the 403 explanation; Ctrl-C stops everything.
 */
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'browser');

describe('npm start (the local demo)', () => {
  let demo: ChildProcess;
  let url = '';
  let output = '';

  beforeAll(async () => {
    demo = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'scripts', 'start.js')], {
      env: { PATH: process.env.PATH, DEMO_PORTS: 'ephemeral' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo.stderr!.setEncoding('utf8');
    demo.stderr!.on('data', (d: string) => (output += d));
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      demo.stdout!.setEncoding('utf8');
      demo.stdout!.on('data', (d: string) => {
        out += d;
        const match = /DEMO_URL=(\S+)/.exec(out);
        if (match) resolve(match[1]);
      });
      demo.once('exit', (code) => reject(new Error(`npm start exited (${code}):\n${output}`)));
    });
  }, 60_000);
  afterAll(async () => {
    // SIGTERM (not SIGKILL) so the demo still stops its own children.
    if (demo.exitCode !== null || demo.signalCode !== null) return;
    const exited = new Promise((r) => demo.once('exit', r));
    demo.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  });

  const login = async (user: string): Promise<string> => {
    const reply = await request(`${url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `user=${user}`,
    });
    expect(reply.status).toBe(303);
    const cookie = String(reply.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    return /argocd\.token=[^;]+/.exec(cookie)![0];
  };
  const anomalies = (cookie: string) => {
    const now = Math.floor(Date.now() / 1000);
    return request(
      `${url}/extensions/anomaly/api/v1/anomalies?group=apps&kind=Deployment&namespace=guestbook&name=guestbook-ui&from=${now - 3600}&to=${now}`,
      {
        headers: {
          cookie,
          'Argocd-Application-Name': 'argocd:guestbook',
          'Argocd-Project-Name': 'default',
        },
      },
    );
  };

  it('prints how to use it', () => {
    expect(output).toContain(`Open ${url}/login`);
    expect(output).toMatch(/alice .* may invoke/);
    expect(output).toMatch(/bob .* 403/);
  });

  it('serves the login page, the host page and the extension bundle on one origin', async () => {
    expect((await request(`${url}/login`)).body).toContain('Sign in to the demo Argo CD');
    expect((await request(`${url}/`)).status).toBe(200);
    expect((await request(`${url}/extensions.js`)).body).toContain('registerResourceExtension');
  });

  it('gives alice anomaly data from the backend through the sidecar', async () => {
    const reply = await anomalies(await login('alice'));
    expect(reply.status).toBe(200);
    expect(reply.json.source).toBe('sample');
    expect(reply.json.resource).toEqual({
      group: 'apps',
      kind: 'Deployment',
      namespace: 'guestbook',
      name: 'guestbook-ui',
    });
  });

  it('gives bob the 403 that names the missing permission and the line that grants it', async () => {
    const reply = await anomalies(await login('bob'));
    expect(reply.json).toMatchObject({
      status: 403,
      requiredPermission: 'extensions, invoke, anomaly',
      policy: 'p, bob, extensions, invoke, anomaly, allow',
    });
  });

  it('shows the tab with data to alice and the 403 explanation to bob, in a real browser', async () => {
    const browser = await launchChromium('demo');
    try {
      const page = await browser.context.newPage();
      const signIn = async (user: string) => {
        await page.goto(`${url}/login`);
        await page.getByRole('button', { name: user }).click();
        await page.waitForURL(/\/\?react=19/);
        await page.goto(`${url}/?react=19&tab=anomalies`);
      };
      await signIn('alice');
      await page.getByRole('img', { name: /Anomaly chart/ }).waitFor();
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'demo-alice.png'), fullPage: true });
      await signIn('bob');
      await page.getByText('extensions, invoke, anomaly').first().waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'demo-bob-403.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it('stops everything on Ctrl-C', async () => {
    const code = await new Promise<number | null>((resolve) => {
      demo.once('exit', (c) => resolve(c));
      demo.kill('SIGINT');
    });
    expect(code).toBe(0);
    // The anomaly backend (a child of the demo) is gone: its port refuses connections.
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect(18081, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
    await expect(request(`${url}/login`)).rejects.toThrow();
  });
});
