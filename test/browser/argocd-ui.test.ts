// The Anomalies tab inside Argo CD's own web UI: production builds of Argo CD's ui/ (v3.5.1 on
// React 19, v3.4.7 on React 16, in ../shared/argocd-ui) served on one loopback origin as
// argocd-server serves them (scripts/argocd-ui-host.ts), with the extension installed from
// its installer tar, the Argo CD API stand-in (FakeArgoCD) and /extensions/ going to the real
// sidecar in front of the real anomaly backend (sample data). Needs Debian's `chromium` and
// `npm run build` (npm test runs it first). ARGOCD_UI_DIST=/path/to/dist runs another build.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import type { Cookie, Page } from 'playwright-core';
import {
  ArgoCDUiHost,
  concatenateExtensions,
  installUiExtension,
  resourceTabUrl,
  startArgoCDUiHost,
} from '../../scripts/argocd-ui-host';
import { AnomalyBackendProcess } from '../helpers/anomaly-backend-process';
import { Chromium, launchChromium } from '../helpers/chromium';
import { Environment } from '../helpers/environment';
import { eventually, request } from '../helpers/http-client';
import { localSession } from '../helpers/local-tokens';
import { REPO_ROOT, SidecarProcess } from '../helpers/sidecar-process';
import {
  ARGOCD_COOKIE_ATTRIBUTES,
  splitTokenCookie,
  toCookieHeader,
} from '../helpers/token-cookies';

const SHARED_UI = resolve(REPO_ROOT, '..', 'shared', 'argocd-ui');
const TAR = join(REPO_ROOT, 'dist', 'extension', 'extension-anomaly.tar');
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'argocd-ui');
const VIEWPORT = { width: 1280, height: 900 };
/** A narrow window: below 64em argo-ui's sliding panel takes 90% of the width. */
const NARROW_VIEWPORT = { width: 800, height: 900 };
const ROOT_PATH = '/argocd';
const ALICE_PASSWORD = 'alice-password';

const APP = { namespace: 'argocd', name: 'guestbook' };
const DEPLOYMENT = {
  group: 'apps',
  kind: 'Deployment',
  namespace: 'guestbook',
  name: 'guestbook-ui',
};
/** Our tab is the only resource extension on a Deployment: extension-0. */
const TAB = 'extension-0';
const ANOMALIES_PATH = '/extensions/anomaly/api/v1/anomalies';
const SUMMARY_PATH = '/extensions/anomaly/api/v1/anomalies/summary';

interface UiBuild {
  /** The tag, or `custom` for ARGOCD_UI_DIST. */
  version: string;
  dist: string;
  /** The React major version the build bundles, when known. */
  react?: string;
}

/** The builds to run: ARGOCD_UI_DIST alone, else each of ../shared/argocd-ui that exists. */
function uiBuilds(): UiBuild[] {
  if (process.env.ARGOCD_UI_DIST) {
    return [{ version: 'custom', dist: resolve(process.env.ARGOCD_UI_DIST) }];
  }
  return [
    { version: 'v3.5.1', dist: join(SHARED_UI, 'v3.5.1', 'dist'), react: '19' },
    { version: 'v3.4.7', dist: join(SHARED_UI, 'v3.4.7', 'dist'), react: '16' },
  ].filter((build) => existsSync(join(build.dist, 'index.html')));
}

const BUILDS = uiBuilds();

/** What one page did during one test. */
interface PageRecord {
  pageErrors: string[];
  /** Console errors other than an HTTP status. */
  consoleErrors: string[];
  /** `<status> <path>` of every "Failed to load resource" console line. */
  failedLoads: string[];
  /** Requests to any origin but the test's. */
  foreign: string[];
}

/** The processes every build shares: the backend, the stand-in and two sidecars. */
const backend = new AnomalyBackendProcess();
const env = new Environment();
let rootSidecar: SidecarProcess;
let extensionsDir: string;
let browser: Chromium;

describe('/extensions.js, assembled as argocd-server assembles it', () => {
  it('wraps each regular extension*.js file, in lexical walk order, symbolic links left out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'extensions-walk-'));
    try {
      mkdirSync(join(dir, 'resources', 'extension-b.js'), { recursive: true });
      mkdirSync(join(dir, 'resources', 'a'), { recursive: true });
      writeFileSync(join(dir, 'resources', 'extension-b.js', 'extension-b.js'), 'b();');
      writeFileSync(join(dir, 'resources', 'a', 'extensions-a.js'), 'a();');
      writeFileSync(join(dir, 'resources', 'a', 'Extension-upper.js'), 'no();');
      writeFileSync(join(dir, 'resources', 'a', 'extension-a.css'), 'no();');
      symlinkSync(join(dir, 'resources', 'a', 'extensions-a.js'), join(dir, 'extension-link.js'));
      const file = (path: string, name: string, body: string) =>
        `// source: ${dir}/${path}/${name} \ntry {\n${body}\n} catch(e) { console.error('Extension ${name} failed to load:', e); }\n`;
      expect(concatenateExtensions(dir)).toBe(
        file('resources/a/extensions-a.js', 'extensions-a.js', 'a();') +
          file('resources/extension-b.js/extension-b.js', 'extension-b.js', 'b();'),
      );
      expect(concatenateExtensions(join(dir, 'missing'))).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

if (BUILDS.length === 0) {
  describe.skip('the Anomalies tab in Argo CD’s own UI', () => {
    it(`needs a UI build: ${SHARED_UI}/<version>/dist, or ARGOCD_UI_DIST`, () => undefined);
  });
  console.warn(
    `test/browser/argocd-ui.test.ts skipped: no Argo CD UI build at ${SHARED_UI} ` +
      '(or set ARGOCD_UI_DIST=/path/to/dist)',
  );
} else {
  describe('Argo CD’s own web UI with the extension installed', () => {
    beforeAll(async () => {
      if (!existsSync(TAR)) throw new Error(`${TAR} is missing: run npm run build`);
      mkdirSync(ARTIFACTS, { recursive: true });
      await backend.start();
      await env.start({
        cm: {
          'extension.config': `extensions:\n- name: anomaly\n  backend:\n    services:\n    - url: ${backend.url}\n`,
        },
        // Each request asks Argo CD again, so a revoked session fails on the next one.
        extraFlags: ['--application-cache-ttl', '0s'],
      });
      env.argocd.localUsers.set('alice', ALICE_PASSWORD);
      rootSidecar = await new SidecarProcess([
        ...env.config.flags,
        ...env.argocd.sidecarFlags(),
        '--namespace',
        'argocd',
        '--rootpath',
        ROOT_PATH,
      ]).start();
      // Argo CD's /tmp/extensions/, filled as the argocd-extension-installer init container does.
      extensionsDir = mkdtempSync(join(tmpdir(), 'argocd-extensions-'));
      installUiExtension(TAR, extensionsDir);
      browser = await launchChromium('argocd-ui', VIEWPORT);
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await rootSidecar?.stop();
      await env.stop();
      await backend.stop();
      if (extensionsDir) rmSync(extensionsDir, { recursive: true, force: true });
    });

    it('takes the session from a chunked argocd.token cookie and refuses it once revoked', async () => {
      const token = localSession('alice', { padding: 'x'.repeat(5000) });
      const cookie = toCookieHeader(splitTokenCookie(token));
      expect(cookie).toMatch(/^argocd\.token=2:[^;]+; argocd\.token-1=/);
      const get = (path: string) => request(`${env.argocd.url}${path}`, { headers: { cookie } });
      expect((await get('/api/v1/session/userinfo')).json).toEqual({
        loggedIn: true,
        username: 'alice',
        iss: 'argocd',
      });
      expect((await get('/api/v1/applications?fields=items.metadata.name')).json).toEqual({
        metadata: { resourceVersion: '1' },
        items: [
          { metadata: { name: 'guestbook' } },
          { metadata: { name: 'payments' } },
          { metadata: { name: 'nowhere' } },
        ],
      });
      env.argocd.revokeToken(token);
      expect((await get('/api/v1/session/userinfo')).json).toEqual({});
      const refused = await get('/api/v1/applications');
      expect([refused.status, refused.json.error]).toEqual([
        401,
        'invalid session: token is revoked, please re-login',
      ]);
    });

    describe.each(BUILDS)('the Anomalies tab in Argo CD $version', ({ version, dist, react }) => {
      let host: ArgoCDUiHost;
      let rootHost: ArgoCDUiHost;
      let page: Page;
      let record: PageRecord;

      const tabUrl = (h: ArgoCDUiHost = host) => resourceTabUrl(h.baseUrl, APP, DEPLOYMENT, TAB);
      const shot = (state: string) =>
        page.screenshot({
          path: join(ARTIFACTS, `${version}-${state}.png`),
          fullPage: false,
          // CSS transitions (argo-ui's tab indicator, button colours) shown finished.
          animations: 'disabled',
        });
      // The tab's own content (Argo CD has a Refresh button of its own, and Monaco's empty
      // live regions have role alert).
      const tab = () => page.locator('.anomaly-ext[data-anomaly-tab]');
      const chart = () => tab().getByRole('img', { name: /Anomaly chart/ });
      const refresh = () => tab().getByRole('button', { name: 'Refresh' });
      const alert = () => tab().getByRole('alert');
      const panel = () => page.locator('[data-anomaly-status]');
      const flyout = () => page.locator('[data-anomaly-flyout]');
      /** The backend's log lines since `before` of the tab's requests (not the summary's). */
      const tabRequests = (before: number) =>
        backend
          .requestLogs()
          .slice(before)
          .filter((r) => !r.path.startsWith('/api/v1/anomalies/summary'));

      beforeAll(async () => {
        const options = {
          dist,
          argocd: env.argocd,
          extensionsDir,
          version: `${version}+stand-in`,
        };
        host = await startArgoCDUiHost({ ...options, extensionsUpstream: env.sidecar.url });
        rootHost = await startArgoCDUiHost({
          ...options,
          extensionsUpstream: rootSidecar.url,
          rootPath: ROOT_PATH,
        });
        page = await browser.context.newPage();
        page.on('pageerror', (err) => record.pageErrors.push(err.message));
        page.on('console', (msg) => {
          if (msg.type() !== 'error') return;
          const status =
            /^Failed to load resource: the server responded with a status of (\d+)/.exec(
              msg.text(),
            );
          if (status)
            record.failedLoads.push(`${status[1]} ${new URL(msg.location().url).pathname}`);
          else record.consoleErrors.push(msg.text());
        });
        page.on('request', (request) => {
          const url = new URL(request.url());
          if (!/^https?:$/.test(url.protocol)) return;
          if (url.origin !== host.origin && url.origin !== rootHost.origin)
            record.foreign.push(request.url());
        });
      });

      afterAll(async () => {
        await page?.close();
        await host?.close();
        await rootHost?.close();
      });

      beforeEach(async () => {
        await page.setViewportSize(VIEWPORT);
        await browser.context.clearCookies();
        // A page of the origin that is not the UI (a 404 runs nothing), to reset its storage.
        await page.goto(`${host.origin}/no-such-file.txt`);
        await page.evaluate('localStorage.clear()');
        record = { pageErrors: [], consoleErrors: [], failedLoads: [], foreign: [] };
      });

      /** A session of `user` as argocd-server sets it after a login (util/http SetTokenCookie). */
      async function signIn(
        user: string,
        options: { rootPath?: string; extraClaims?: Record<string, unknown> } = {},
      ) {
        const token = localSession(user, options.extraClaims);
        const path = options.rootPath ?? '/';
        const attributes = ARGOCD_COOKIE_ATTRIBUTES.replace('path=/', `path=${path}`);
        const cookies: Cookie[] = splitTokenCookie(token, attributes).map((setCookie) => {
          const pair = setCookie.split(';')[0];
          const eq = pair.indexOf('=');
          return {
            name: pair.slice(0, eq),
            value: pair.slice(eq + 1),
            domain: '127.0.0.1',
            path,
            expires: -1,
            httpOnly: true,
            secure: false,
            sameSite: 'Lax',
          };
        });
        await browser.context.addCookies(cookies);
        return { token, cookies };
      }

      /** The page made no errors, only the expected failed loads, no request elsewhere. */
      function expectCleanPage(expectedFailedLoads: string[] = []) {
        expect(record.pageErrors).toEqual([]);
        expect(record.consoleErrors).toEqual([]);
        // In any order: the tab and the status panel load side by side.
        expect([...record.failedLoads].sort()).toEqual([...expectedFailedLoads].sort());
        expect(record.foreign).toEqual([]);
      }

      /** Opens the tab by its URL and waits for it to be there. */
      async function openTab(url = tabUrl()) {
        await page.goto(url);
        await tab().waitFor();
      }

      it('is served as argocd-server serves it: routes get index.html, the root path moves all', async () => {
        const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
        const route = await request(`${host.origin}/applications/argocd/guestbook`, {
          headers: html,
        });
        expect(route.status).toBe(200);
        expect(route.headers['cache-control']).toBe('no-cache, private, max-age=0');
        expect(route.body).toContain('<base href="/">');
        const rooted = await request(`${rootHost.origin}${ROOT_PATH}/applications`, {
          headers: html,
        });
        expect(rooted.body).toContain(`<base href="${ROOT_PATH}/">`);
        expect(rooted.body).not.toContain('<base href="/">');
        // Go's ServeMux: the bare root path redirects into it, anything outside it is a 404.
        const bare = await request(`${rootHost.origin}${ROOT_PATH}`);
        expect([bare.status, bare.headers.location]).toEqual([301, `${ROOT_PATH}/`]);
        expect((await request(`${rootHost.origin}/applications`, { headers: html })).status).toBe(
          404,
        );
        // A missing file is a 404 unless the browser asks for a page.
        expect((await request(`${host.origin}/no-such-file.js`)).status).toBe(404);
        const main = /src="(main\.[0-9a-f]{20}\.js)"/.exec(route.body)?.[1];
        if (version !== 'custom') expect(main).toBeDefined();
        if (main) {
          const bundle = await request(`${host.origin}/${main}`, { method: 'HEAD' });
          expect(bundle.status).toBe(200);
          expect(bundle.headers['cache-control']).toBe('public, max-age=31536000, immutable');
          expect(bundle.headers['content-type']).toBe('text/javascript; charset=utf-8');
        }
      });

      it('is served by the UI build under test', async () => {
        await signIn('alice');
        await openTab();
        // Its request answered, so that it does not reach the backend during the next test.
        await chart().waitFor();
        const reactVersion = await page.evaluate<string>('window.React.version');
        if (react) expect(reactVersion.split('.')[0]).toBe(react);
        else console.log(`ARGOCD_UI_DIST=${dist}: React ${reactVersion}`);
        // /extensions.js is the installed tar's bundle in argocd-server's wrapper.
        const extensions = await (await page.request.get(`${host.origin}/extensions.js`)).text();
        expect(extensions).toMatch(
          /^\/\/ source: .*\/resources\/extension-anomaly\.js\/extensions-anomaly\.js\/extensions-anomaly\.js \ntry \{\n/,
        );
        expect(extensions).toMatch(
          /\n\} catch\(e\) \{ console\.error\('Extension extensions-anomaly\.js failed to load:', e\); \}\n$/,
        );
        expectCleanPage();
      });

      it('shows alice the chart when the tab is opened by its URL', async () => {
        await signIn('alice');
        const before = backend.requestLogs().length;
        await openTab();
        await chart().waitFor();
        await expect(alert().count()).resolves.toBe(0);
        // The request reached the backend through the sidecar, for alice and this application.
        // The backend logs a request once it has answered it: wait for the line.
        await eventually(() =>
          expect(tabRequests(before)).toEqual([
            expect.objectContaining({
              path: expect.stringMatching(
                /^\/api\/v1\/anomalies\?group=apps&kind=Deployment&namespace=guestbook&name=guestbook-ui&/,
              ),
              status: 200,
              user: 'alice',
              application: 'argocd:guestbook',
            }),
          ]),
        );
        await shot('data');
        // The whole tab (extension/README.md): a viewport tall enough for all of it, since
        // Argo CD's panel scrolls inside the page.
        const viewport = page.viewportSize()!;
        await page.setViewportSize({ width: viewport.width, height: 1800 });
        await tab().screenshot({
          path: join(ARTIFACTS, `${version}-tab.png`),
          animations: 'disabled',
        });
        await page.setViewportSize(viewport);
        expectCleanPage();
      });

      it('is reached by clicking: log in, application tile, Deployment node, Anomalies tab', async () => {
        // Argo CD's login page, as after a logout. (Sent there by a 401 instead, v3.4.7 also
        // logs an uncaught "Unauthorized": the UI's own, before any extension runs.)
        await page.goto(`${host.baseUrl}login`);
        await page.locator('input:not([type=password])').first().fill('alice');
        await page.locator('input[type=password]').fill(ALICE_PASSWORD);
        await page.getByRole('button', { name: /sign in/i }).click();
        await page.locator('.applications-list__title', { hasText: 'argocd/guestbook' }).click();
        await page
          .locator('.application-resource-tree__node')
          .filter({ has: page.getByText('deploy', { exact: true }) })
          .filter({ hasText: 'guestbook-ui' })
          .click();
        await page.locator('.tabs__nav a', { hasText: /anomalies/i }).click();
        await chart().waitFor();
        await expect(alert().count()).resolves.toBe(0);
        const url = new URL(page.url());
        expect(url.pathname).toBe('/applications/argocd/guestbook');
        expect(url.searchParams.get('node')).toBe('apps/Deployment/guestbook/guestbook-ui/0');
        expect(url.searchParams.get('tab')).toBe(TAB);
        await shot('clicked');
        expectCleanPage();
      });

      it('shows the application’s worst anomaly in the status panel, every workload in its flyout', async () => {
        await signIn('alice');
        const before = backend.requestLogs().length;
        const answered = page.waitForResponse((r) => new URL(r.url()).pathname === SUMMARY_PATH);
        await page.goto(`${host.baseUrl}applications/${APP.namespace}/${APP.name}`);
        const summary = (await (await answered).json()) as {
          workloads: {
            resource: typeof DEPLOYMENT;
            state: string;
            maxScore: number;
            worst: { label: string } | null;
          }[];
        };
        // status.resources has the Deployment and its Service: only the Deployment runs pods.
        expect(summary.workloads.map((w) => w.resource)).toEqual([DEPLOYMENT]);
        const [web] = summary.workloads;
        // The sample data's incidents come and go: the badge shows what the backend answered.
        const value =
          web.state === 'anomalous'
            ? `Score ${web.maxScore.toFixed(1)}`
            : web.state === 'normal'
              ? 'Normal'
              : 'No data';
        await panel().getByText(value).waitFor();
        if (web.worst) {
          await panel().getByText(`${web.worst.label} in Deployment guestbook-ui`).waitFor();
        }
        await expect(panel().locator('label').textContent()).resolves.toBe('ANOMALIES');
        // One request, through the sidecar, for alice and this application.
        await eventually(() =>
          expect(backend.requestLogs().slice(before)).toEqual([
            expect.objectContaining({
              path: expect.stringMatching(
                /^\/api\/v1\/anomalies\/summary\?workload=apps%2FDeployment%2Fguestbook%2Fguestbook-ui&from=\d+&to=\d+$/,
              ),
              status: 200,
              user: 'alice',
              application: 'argocd:guestbook',
            }),
          ]),
        );
        // Status panel items extend it to the right; scroll ours into view for the picture.
        await panel().scrollIntoViewIfNeeded();
        await shot('status-panel');
        await panel().screenshot({
          path: join(ARTIFACTS, `${version}-status-panel-item.png`),
          animations: 'disabled',
        });

        await panel().getByRole('button', { name: 'Show the anomalies of every workload' }).click();
        const link = flyout().getByRole('link', { name: 'Deployment guestbook/guestbook-ui' });
        await link.waitFor();
        await expect(flyout().locator('.ae-workload').count()).resolves.toBe(1);
        await shot('status-flyout');
        // The flyout used the panel's answer.
        expect(backend.requestLogs().slice(before)).toHaveLength(1);

        await link.click();
        await chart().waitFor();
        const url = new URL(page.url());
        expect(url.pathname).toBe(`/applications/${APP.namespace}/${APP.name}`);
        expect(url.searchParams.get('node')).toBe('apps/Deployment/guestbook/guestbook-ui/0');
        expect(url.searchParams.get('tab')).toBe(TAB);
        expectCleanPage();
      });

      it('lists alice’s applications on the Anomalies page, each scored by the backend', async () => {
        await signIn('alice');
        const before = backend.requestLogs().length;
        const answered = page.waitForResponse((r) => new URL(r.url()).pathname === SUMMARY_PATH);
        await page.goto(`${host.baseUrl}anomalies`);
        const summary = (await (await answered).json()) as {
          summary: { state: string; maxScore: number };
        };
        const overview = page.locator('[data-anomaly-overview][aria-busy="false"]');
        await overview.waitFor();
        const row = (app: string) => overview.locator(`tr[data-application="${app}"]`);
        const { state, maxScore } = summary.summary;
        await expect(row('argocd/guestbook').locator('td').nth(2).textContent()).resolves.toBe(
          state === 'anomalous'
            ? `Score ${maxScore.toFixed(1)}`
            : state === 'normal'
              ? 'Normal'
              : 'No data',
        );
        // payments and nowhere manage nothing that runs pods: nothing is asked for them.
        for (const app of ['team-a/payments', 'argocd/nowhere']) {
          await expect(row(app).locator('td').nth(2).textContent()).resolves.toBe('No workloads');
        }
        await eventually(() =>
          expect(backend.requestLogs().slice(before)).toEqual([
            expect.objectContaining({
              path: expect.stringMatching(/^\/api\/v1\/anomalies\/summary\?/),
              status: 200,
              user: 'alice',
              application: 'argocd:guestbook',
            }),
          ]),
        );
        await shot('overview');
        expectCleanPage();
      });

      it('explains to bob which permission he lacks (403)', async () => {
        await signIn('bob');
        await openTab();
        await alert().waitFor();
        await expect(alert().textContent()).resolves.toContain('extensions, invoke, anomaly');
        await expect(chart().count()).resolves.toBe(0);
        await shot('403');
        // The status panel's summary is refused for the same reason.
        await panel().getByText('Unavailable').waitFor();
        expectCleanPage([`403 ${ANOMALIES_PATH}`, `403 ${SUMMARY_PATH}`]);
      });

      it('says the session has ended when Refresh runs after a logout (401)', async () => {
        const { token } = await signIn('alice');
        await openTab();
        await chart().waitFor();
        env.argocd.revokeToken(token);
        await refresh().click();
        await alert().waitFor();
        await expect(alert().textContent()).resolves.toMatch(/Your Argo CD session has ended/);
        // The tab's own request bypasses the UI's 401 redirect: it offers Argo CD's login
        // page, which returns to this tab.
        const login = new URL(
          (await alert().getByRole('link', { name: 'Log in' }).getAttribute('href'))!,
        );
        expect(login.href.split('?')[0]).toBe(`${host.baseUrl}login`);
        expect(login.searchParams.get('return_url')).toBe(page.url());
        await shot('401');
        expectCleanPage([`401 ${ANOMALIES_PATH}`]);
      });

      it('explains that the backend is unavailable when it is down', async () => {
        await signIn('alice');
        await openTab();
        await chart().waitFor();
        await backend.stop();
        try {
          await refresh().click();
          await alert().waitFor();
          await expect(alert().textContent()).resolves.toMatch(/backend is unreachable/);
          await shot('backend-down');
          expect(record.failedLoads).toHaveLength(1);
          expectCleanPage([expect.stringMatching(/^50[23] /) as unknown as string]);
        } finally {
          await backend.start();
        }
      });

      it.each(['light', 'dark'])(
        'follows the %s theme chosen in Argo CD’s settings',
        async (theme) => {
          await signIn('alice');
          // ViewPreferencesService.updatePreferences: localStorage view_preferences, version 5.
          const preferences = JSON.stringify({ version: 5, theme });
          await page.evaluate(
            `localStorage.setItem('view_preferences', ${JSON.stringify(preferences)})`,
          );
          await openTab();
          await chart().waitFor();
          // Layout puts theme-<theme> on its root and paints the body (layout.tsx getBGColor).
          await expect(
            page.locator(`.theme-${theme} .anomaly-ext[data-anomaly-tab]`).count(),
          ).resolves.toBe(1);
          await expect(
            page.evaluate<string>('getComputedStyle(document.body).backgroundColor'),
          ).resolves.toBe(theme === 'dark' ? 'rgb(16, 15, 15)' : 'rgb(222, 230, 235)');
          const texts = await page.evaluate<TextContrast[]>(TEXT_CONTRASTS);
          expect(texts.length).toBeGreaterThan(5);
          // The tab's panel follows the theme: dark behind its text in dark, light in light.
          for (const text of texts) {
            if (theme === 'dark') expect(text.backgroundLuminance).toBeLessThan(0.1);
            else expect(text.backgroundLuminance).toBeGreaterThan(0.8);
          }
          // No text is unreadable on what is behind it: at least 3:1 (WCAG's floor, for large
          // text). Controls are left out: argo-ui styles its buttons.
          expect(texts.filter((t) => t.ratio < 3)).toEqual([]);
          await shot(theme);
          if (theme === 'light') {
            await page.setViewportSize(NARROW_VIEWPORT);
            await chart().waitFor();
            await shot('narrow');
          }
          expectCleanPage();
        },
      );

      it('can be used with the keyboard alone', async () => {
        await signIn('alice');
        await openTab();
        await chart().waitFor();
        const focused = () =>
          page.evaluate<string>(
            "document.activeElement.getAttribute('aria-label') || document.activeElement.textContent.trim()",
          );
        // The tab's first control (in tab order: a radio group is one stop, its checked radio).
        // Argo CD's tab headers are links without href: Tab cannot reach into the panel from them.
        await page.evaluate(
          "document.querySelector('[data-anomaly-tab] input:checked, [data-anomaly-tab] button').focus()",
        );
        await expect(focused()).resolves.toBe('last 6 hours');
        await page.keyboard.press('Tab');
        await expect(focused()).resolves.toBe('Refresh');
        await page.keyboard.press('Shift+Tab');
        await expect(focused()).resolves.toBe('last 6 hours');

        const before = backend.requestLogs().length;
        await page.keyboard.press('ArrowRight');
        await expect(focused()).resolves.toBe('last 24 hours');
        const range = (path: string) => {
          const query = new URL(path, 'http://backend').searchParams;
          return Number(query.get('to')) - Number(query.get('from'));
        };
        await eventually(() => {
          const reached = tabRequests(before);
          expect(reached.map((r) => [range(r.path), r.status, r.user])).toEqual([
            [86400, 200, 'alice'],
          ]);
        }, 10_000);
        // Refresh is disabled while the new range loads: Tab reaches it once the answer is in.
        await tab().locator('button:not([disabled])', { hasText: 'Refresh' }).waitFor();
        await page.keyboard.press('Tab');
        await expect(focused()).resolves.toBe('Refresh');
        await shot('keyboard');
        await page.keyboard.press('Enter');
        await eventually(() => {
          const reached = tabRequests(before);
          expect(reached.map((r) => range(r.path))).toEqual([86400, 86400]);
        }, 10_000);
        expectCleanPage();
      });

      it('works under the root path /argocd, its data through /argocd/extensions/anomaly/', async () => {
        // A session longer than one cookie: argocd.token=2:<part> and argocd.token-1.
        const { cookies } = await signIn('alice', {
          rootPath: ROOT_PATH,
          extraClaims: { padding: 'x'.repeat(5000) },
        });
        expect(cookies.map((c) => c.name)).toEqual(['argocd.token', 'argocd.token-1']);
        const calls: string[] = [];
        const onRequest = (request: { url(): string }) => {
          if (request.url().includes('/extensions/')) calls.push(new URL(request.url()).pathname);
        };
        page.on('request', onRequest);
        try {
          await openTab(tabUrl(rootHost));
          await chart().waitFor();
        } finally {
          page.off('request', onRequest);
        }
        await expect(page.evaluate('document.baseURI')).resolves.toBe(rootHost.baseUrl);
        // The tab's request and the status panel's summary, both under the root path.
        expect(new Set(calls)).toEqual(
          new Set([`${ROOT_PATH}${ANOMALIES_PATH}`, `${ROOT_PATH}${SUMMARY_PATH}`]),
        );
        expect(rootSidecar.loggedRequest(`${ROOT_PATH}${ANOMALIES_PATH}`)).toBe(true);
        await shot('rootpath');
        expectCleanPage();
      });
    });
  });
}

/** One piece of the tab's visible text: its contrast with the first opaque background behind it. */
interface TextContrast {
  text: string;
  /** WCAG 2 contrast ratio, 1 to 21. */
  ratio: number;
  backgroundLuminance: number;
}

/**
 * Runs in the page: every element of the tab with text of its own that is drawn (not a
 * screen-reader-only span, a style, an SVG title), controls aside, with its WCAG contrast.
 */
const TEXT_CONTRASTS = `(() => {
  const parse = (color) => {
    const [r, g, b, a = 1] = (color.match(/[\\d.]+/g) || []).map(Number);
    return { r, g, b, a };
  };
  const luminance = ({ r, g, b }) => {
    const channel = (v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const backgroundOf = (element) => {
    for (let node = element; node; node = node.parentElement) {
      const color = parse(getComputedStyle(node).backgroundColor);
      if (color.a > 0.5) return color;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const found = [];
  for (const element of document.querySelectorAll('[data-anomaly-tab] *')) {
    if (element.closest('button, fieldset, style, title, desc')) continue;
    const ownText = [...element.childNodes]
      .filter((node) => node.nodeType === 3)
      .map((node) => node.textContent.trim())
      .join(' ')
      .trim();
    const box = element.getBoundingClientRect();
    if (!ownText || box.width <= 2 || box.height <= 2) continue;
    const text = luminance(parse(getComputedStyle(element).color));
    const back = luminance(backgroundOf(element));
    found.push({
      text: ownText.slice(0, 60),
      ratio: Math.round(((Math.max(text, back) + 0.05) / (Math.min(text, back) + 0.05)) * 100) / 100,
      backgroundLuminance: back,
    });
  }
  return found;
})()`;
