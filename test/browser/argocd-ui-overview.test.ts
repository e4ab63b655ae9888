// The Anomalies page in Argo CD's sidebar (registerSystemLevelExtension), inside production
// builds of Argo CD's own UI (../shared/argocd-ui; skipped with a message where absent), with
// 500 applications the user may see and 20 the user may not. The applications come from the
// Argo CD API stand-in as Argo CD lists them (filtered by the user's grants); each summary
// goes through the real sidecar, with that application's headers, to a recording backend
// that answers summaries at once in the documented shape (the real backend's answers are
// tested in anomaly-service.test.ts and argocd-ui.test.ts; its CPU for 500 applications is
// what this test must not wait for).
import { existsSync, mkdtempSync, rmSync } from 'fs';
import http from 'http';
import type { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import type { Page } from 'playwright-core';
import { ArgoCDUiHost, installUiExtension, startArgoCDUiHost } from '../../scripts/argocd-ui-host';
import { Chromium, launchChromium } from '../helpers/chromium';
import { Environment } from '../helpers/environment';
import type { FakeApplication } from '../helpers/fake-argocd';
import { localSession } from '../helpers/local-tokens';
import { REPO_ROOT } from '../helpers/sidecar-process';
import { ARGOCD_COOKIE_ATTRIBUTES, splitTokenCookie } from '../helpers/token-cookies';

const SHARED_UI = resolve(REPO_ROOT, '..', 'shared', 'argocd-ui');
const TAR = join(REPO_ROOT, 'dist', 'extension', 'extension-anomaly.tar');
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'argocd-ui');
const SUMMARY_PATH = '/api/v1/anomalies/summary';

const VISIBLE = 500;
const HIDDEN = 20;
const PROJECTS = ['default', 'team-a', 'team-b', 'team-c', 'team-d'];
/** Every 50th visible application has an anomaly, scored 5.0 + its index / 100. */
const isHot = (i: number) => i % 50 === 7;

function application(i: number, hidden: boolean): FakeApplication {
  const name = hidden ? `secret-${i}` : `app-${String(i).padStart(3, '0')}`;
  return {
    name,
    namespace: 'argocd',
    project: PROJECTS[i % PROJECTS.length],
    destination: { server: 'https://kubernetes.default.svc', namespace: name },
    // The stand-in lists an application to the subjects that may `applications, get` it.
    readers: hidden ? ['admin'] : ['alice', 'admin'],
    resources: [
      { group: 'apps', version: 'v1', kind: 'Deployment', namespace: name, name: 'web' },
      { group: '', version: 'v1', kind: 'Service', namespace: name, name: 'web' },
    ],
  };
}

interface Seen {
  application: string;
  project: string;
  user: string;
  workloads: string[];
}

/** Answers GET /api/v1/anomalies/summary at once and records what reached it, and when. */
class SummaryBackend {
  readonly seen: Seen[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private server?: http.Server;
  url = '';

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://backend');
      const workloads = url.searchParams.getAll('workload');
      this.seen.push({
        application: String(req.headers['argocd-application-name']),
        project: String(req.headers['argocd-project-name']),
        user: String(req.headers['argocd-username']),
        workloads,
      });
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      // A little later, so that concurrent requests overlap as they would on a real backend.
      setTimeout(() => {
        this.inFlight--;
        const answer = summaryFor(url, workloads);
        res.writeHead(url.pathname === SUMMARY_PATH ? 200 : 404, {
          'content-type': 'application/json',
        });
        res.end(JSON.stringify(answer));
      }, 5);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

function summaryFor(url: URL, workloads: string[]) {
  const from = Number(url.searchParams.get('from'));
  const to = Number(url.searchParams.get('to'));
  const summaries = workloads.map((w) => {
    const [group, kind, namespace, name] = w.split('/');
    const i = Number(/(\d+)$/.exec(namespace)?.[1] ?? -1);
    const hot = namespace.startsWith('app-') && isHot(i);
    const maxScore = hot ? 5 + i / 100 : 1;
    return {
      resource: { group, kind, namespace, name },
      podSelection: 'kube-state-metrics',
      state: hot ? 'anomalous' : 'normal',
      score: maxScore,
      maxScore,
      anomalousWindows: hot ? 1 : 0,
      worst: hot
        ? {
            start: to - 900,
            end: to - 300,
            score: maxScore,
            metric: 'cpu',
            label: 'CPU',
            unit: 'cores',
          }
        : null,
    };
  });
  const anomalous = summaries.filter((s) => s.state === 'anomalous');
  return {
    range: { from, to, step: 60 },
    source: 'prometheus',
    summary: {
      state: anomalous.length > 0 ? 'anomalous' : 'normal',
      maxScore: Math.max(...summaries.map((s) => s.maxScore)),
      anomalousWorkloads: anomalous.length,
    },
    workloads: summaries,
  };
}

const BUILDS = [
  { version: 'v3.5.1', dist: join(SHARED_UI, 'v3.5.1', 'dist') },
  { version: 'v3.4.7', dist: join(SHARED_UI, 'v3.4.7', 'dist') },
].filter((build) => existsSync(join(build.dist, 'index.html')));

if (BUILDS.length === 0) {
  describe.skip('the Anomalies page in Argo CD’s own UI', () => {
    it(`needs a UI build: ${SHARED_UI}/<version>/dist`, () => undefined);
  });
  console.warn(
    `test/browser/argocd-ui-overview.test.ts skipped: no Argo CD UI build at ${SHARED_UI}`,
  );
} else {
  describe.each(BUILDS)('the Anomalies page in Argo CD $version', ({ version, dist }) => {
    const backend = new SummaryBackend();
    const env = new Environment();
    let extensionsDir: string;
    let browser: Chromium;
    let host: ArgoCDUiHost;
    let page: Page;
    const errors: string[] = [];

    beforeAll(async () => {
      if (!existsSync(TAR)) throw new Error(`${TAR} is missing: run npm run build`);
      await backend.start();
      await env.start({
        cm: {
          'extension.config': `extensions:\n- name: anomaly\n  backend:\n    services:\n    - url: ${backend.url}\n`,
        },
      });
      env.argocd.setApplications([
        ...Array.from({ length: VISIBLE }, (_, i) => application(i, false)),
        ...Array.from({ length: HIDDEN }, (_, i) => application(i, true)),
      ]);
      env.argocd.setProjects(
        PROJECTS.map((name) => ({ name, destinations: [{ server: '*', namespace: '*' }] })),
      );
      extensionsDir = mkdtempSync(join(tmpdir(), 'argocd-extensions-'));
      installUiExtension(TAR, extensionsDir);
      host = await startArgoCDUiHost({
        dist,
        argocd: env.argocd,
        extensionsDir,
        extensionsUpstream: env.sidecar.url,
        version: `${version}+stand-in`,
      });
      browser = await launchChromium('argocd-ui-overview', { width: 1280, height: 900 });
      page = await browser.context.newPage();
      page.on('pageerror', (err) => errors.push(err.message));
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(msg.text());
      });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await host?.close();
      await env.stop();
      await backend.stop();
      if (extensionsDir) rmSync(extensionsDir, { recursive: true, force: true });
    });

    it('lists the 500 applications alice may see, most anomalous first, each checked on its own', async () => {
      const token = localSession('alice');
      await browser.context.addCookies(
        splitTokenCookie(token, ARGOCD_COOKIE_ATTRIBUTES).map((setCookie) => {
          const pair = setCookie.split(';')[0];
          const eq = pair.indexOf('=');
          return {
            name: pair.slice(0, eq),
            value: pair.slice(eq + 1),
            domain: '127.0.0.1',
            path: '/',
            expires: -1,
            httpOnly: true,
            secure: false,
            sameSite: 'Lax' as const,
          };
        }),
      );
      const listCalls: string[] = [];
      page.on('request', (request) => {
        const url = new URL(request.url());
        if (url.pathname === '/api/v1/applications') listCalls.push(url.search);
      });
      await page.goto(`${host.baseUrl}applications`);
      // The sidebar entry Argo CD adds for the page (app.tsx onAddSystemLevelExtension).
      const started = Date.now();
      await page.locator('.sidebar__nav-item', { hasText: 'Anomalies' }).click();
      const overview = page.locator('[data-anomaly-overview]');
      await overview.waitFor();
      expect(new URL(page.url()).pathname).toBe('/anomalies');
      const firstRows = await overview
        .locator('tbody tr')
        .first()
        .waitFor()
        .then(() => Date.now() - started);
      await page
        .locator('[data-anomaly-overview][aria-busy="false"]')
        .waitFor({ timeout: 120_000 });
      const allScored = Date.now() - started;
      await expect(overview.getByRole('status').innerText()).resolves.toBe(
        `Scored ${VISIBLE} of ${VISIBLE} applications with workloads.`,
      );

      // Argo CD's own list call, with only the fields the page needs.
      expect(listCalls).toContain(
        '?fields=items.metadata.name%2Citems.metadata.namespace%2Citems.spec.project%2Citems.status.resources',
      );
      // One summary per visible application, with its own headers, for alice; none for the
      // hidden ones; never more than 4 at once.
      expect(backend.seen).toHaveLength(VISIBLE);
      expect(new Set(backend.seen.map((s) => s.application)).size).toBe(VISIBLE);
      for (const s of backend.seen) {
        const name = s.application.split(':')[1];
        const i = Number(name.slice(4));
        expect(s).toEqual({
          application: `argocd:app-${String(i).padStart(3, '0')}`,
          project: PROJECTS[i % PROJECTS.length],
          user: 'alice',
          workloads: [`apps/Deployment/${name}/web`],
        });
      }
      expect(backend.maxInFlight).toBeLessThanOrEqual(4);
      await expect(overview.locator('tbody tr').count()).resolves.toBe(VISIBLE);
      await expect(page.getByText(/secret-/).count()).resolves.toBe(0);

      // Most anomalous first: the hot applications by score, then the rest by name.
      const hot = Array.from({ length: VISIBLE }, (_, i) => i)
        .filter(isHot)
        .reverse();
      const names = await overview.locator('tbody tr').evaluateAll((rows) =>
        // The tests compile without the DOM's types.
        rows.map((row) =>
          (row as unknown as { getAttribute(name: string): string | null }).getAttribute(
            'data-application',
          ),
        ),
      );
      expect(names.slice(0, hot.length)).toEqual(
        hot.map((i) => `argocd/app-${String(i).padStart(3, '0')}`),
      );
      expect(names[hot.length]).toBe('argocd/app-000');
      const top = overview.locator('tbody tr').first();
      await expect(top.locator('td').nth(2).textContent()).resolves.toBe(
        `Score ${(5 + hot[0] / 100).toFixed(1)}`,
      );
      const worst = top.getByRole('link', { name: 'CPU in Deployment web' });
      await expect(worst.getAttribute('href')).resolves.toBe(
        `applications/argocd/app-${hot[0]}?node=apps%2FDeployment%2Fapp-${hot[0]}%2Fweb%2F0&tab=extension-0`,
      );

      // Filtered by project: team-b's 100, hot ones first, without asking again.
      const before = backend.seen.length;
      const filterStarted = Date.now();
      await overview.getByRole('combobox').selectOption('team-b');
      await expect(overview.locator('tbody tr').count()).resolves.toBe(VISIBLE / PROJECTS.length);
      const filtered = Date.now() - filterStarted;
      const teamB = await overview.locator('tbody tr td:nth-child(2)').allTextContents();
      expect(new Set(teamB)).toEqual(new Set(['team-b']));
      expect(backend.seen.length).toBe(before);
      await page.screenshot({ path: join(ARTIFACTS, `${version}-overview.png`) });
      expect(errors).toEqual([]);
      // Figures of this run, not budgets (a slow machine fails nothing).
      console.log(
        `${version} overview of ${VISIBLE} applications: first rows after ${firstRows} ms, ` +
          `all scored after ${allScored} ms, project filter applied in ${filtered} ms`,
      );
    }, 180_000);
  });
}
