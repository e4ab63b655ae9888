// The built extension bundle in headless Chromium, inside the development host page,
// under React 16 (Argo CD <= 3.4) and React 19 (>= 3.5). Needs Debian's `chromium`
// (.ci/run installs it) and `npm run build` (npm test runs it first).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { type BrowserContext, type Page } from 'playwright-core';
import { Chromium, launchChromium } from '../helpers/chromium';
import { Environment } from '../helpers/environment';
import { eventually } from '../helpers/http-client';
import { localSession } from '../helpers/local-tokens';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startDevServer } = require('../../extension/dev/server.js') as {
  startDevServer(opts: {
    port: number;
    rootPath?: string;
    extensionsUpstream?: string;
    extensionsDir?: string;
    login?: { users: Array<{ name: string; note: string }>; token: (user: string) => string };
  }): Promise<DevServer>;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { answerAnomalies } = require('../../extension/dev/fixtures.js') as {
  answerAnomalies(
    query: Record<string, string>,
    headers: http.IncomingHttpHeaders,
    scenario: string,
  ): { status: number; body: unknown };
};

interface RecordedRequest {
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
}
interface DevServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts', 'browser');
const BUNDLE = path.resolve(
  __dirname,
  '../../dist/extension/resources/extension-anomaly.js/extensions-anomaly.js',
);

let server: DevServer;
let browser: Chromium;
let context: BrowserContext;

beforeAll(async () => {
  if (!fs.existsSync(BUNDLE)) throw new Error('the extension is not built: run npm run build');
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  server = await startDevServer({ port: 0 });
  browser = await launchChromium('anomaly-ext', { width: 1280, height: 900 });
  context = browser.context;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

interface Opened {
  page: Page;
  errors: string[];
}

/** Page errors and console errors of a page (HTTP statuses aside: the caller decides). */
function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text()))
      errors.push(msg.text());
  });
  return errors;
}

/** Opens the host page; collects page errors and console errors (except HTTP statuses). */
async function open(query: Record<string, string>): Promise<Opened> {
  const page = await context.newPage();
  const errors = collectErrors(page);
  await page.goto(`${server.url}/?${new URLSearchParams(query).toString()}`);
  return { page, errors };
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

function lastRequest(): RecordedRequest {
  return server.requests[server.requests.length - 1];
}

/**
 * Runs in the page (a string: the tests compile without the DOM's types): every pair of
 * the chart's text labels whose boxes intersect, and every label reaching outside the
 * drawing, as readable strings (empty: none).
 */
const TEXT_OVERLAPS = `(() => {
  const svg = document.querySelector('.anomaly-ext svg');
  if (!svg) return ['no chart'];
  const frame = svg.getBoundingClientRect();
  const labels = Array.from(svg.querySelectorAll('text'))
    .map((el) => ({ text: el.textContent, box: el.getBoundingClientRect() }))
    .filter(({ box }) => box.width > 0);
  const problems = [];
  for (const { text, box } of labels) {
    if (box.left < frame.left - 0.5 || box.right > frame.right + 0.5) {
      problems.push('"' + text + '" crosses the edge of the chart');
    }
  }
  for (let i = 0; i < labels.length; i++) {
    for (let j = i + 1; j < labels.length; j++) {
      const a = labels[i].box;
      const b = labels[j].box;
      const apart = a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top;
      if (!apart) problems.push('"' + labels[i].text + '" overlaps "' + labels[j].text + '"');
    }
  }
  return problems;
})()`;

describe.each(['16', '19'])('the Anomalies tab on a React %s host', (react) => {
  it('shows the summary and the chart for a Deployment', async () => {
    const { page, errors } = await open({ react, tab: 'anomalies' });
    await expect(page.getByTestId('react-version').textContent()).resolves.toMatch(
      new RegExp(`^${react}\\.`),
    );
    const chart = page.getByRole('img', { name: /Anomaly chart/ });
    await chart.waitFor();
    // The fixture's window ended hours ago: normal now, one anomaly in the range.
    await expect(page.locator('.ae-state').textContent()).resolves.toContain('Normal now');
    await expect(page.locator('.ae-state-note').textContent()).resolves.toBe(
      '1 anomaly in the last 6 hours',
    );
    await expect(page.locator('.anomaly-ext .ae-window').count()).resolves.toBe(1);
    await expect(chart.getAttribute('aria-labelledby')).resolves.toBeTruthy();
    const description = await page.locator('.anomaly-ext desc').textContent();
    expect(description).toMatch(/1 anomalous window: cpu from/);
    const request = lastRequest();
    expect(request.headers['argocd-application-name']).toBe('argocd:guestbook');
    expect(request.headers['argocd-project-name']).toBe('default');
    expect(request.query).toMatchObject({
      group: 'apps',
      kind: 'Deployment',
      namespace: 'guestbook',
      name: 'guestbook-ui',
    });
    expect(Number(request.query.to) - Number(request.query.from)).toBe(6 * 3600);
    await shot(page, `react${react}-deployment`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('explains the anomaly: which metric, how far from usual, the sync before it', async () => {
    const { page, errors } = await open({ react, tab: 'anomalies' });
    await page.getByRole('img', { name: /Anomaly chart/ }).waitFor();
    const item = page.locator('.anomaly-ext .ae-window-item');
    await expect(item.count()).resolves.toBe(1);
    const text = (await item.textContent()) ?? '';
    // The fixture's CPU runs at 2.6× its expectation in the window. The sync is 4 minutes
    // before 2.4 hours ago, the window 2.4 hours before the range's end, which is the last
    // multiple of the 90 s step: between 2.5 and 4 minutes after the sync.
    expect(text).toMatch(
      /^CPU [23](\.\d)?× above usual .+–.+ \(expected 0\.\d+ cores, saw 0\.\d+ cores\)began [234] min after sync to abc1234$/,
    );
    await expect(item.getAttribute('aria-pressed')).resolves.toBe('true');
    // The chosen window is emphasised and its metric's expected band drawn, in the CPU
    // panel only.
    await expect(page.locator('.anomaly-ext .ae-window--selected').count()).resolves.toBe(1);
    await expect(page.locator('.anomaly-ext .ae-band').count()).resolves.toBe(1);
    const bandPanel = page.locator('.anomaly-ext .ae-panel', { has: page.locator('.ae-band') });
    await expect(bandPanel.locator('.ae-panel-title').textContent()).resolves.toBe('CPU · cores');
    // Both syncs of the application's history are marked and labelled.
    await expect(page.locator('.anomaly-ext .ae-sync-label').allTextContents()).resolves.toEqual([
      'sync 5f2a9c1',
      'sync abc1234',
    ]);
    // Human units on the axes.
    await expect(page.locator('.anomaly-ext .ae-panel-title').allTextContents()).resolves.toEqual([
      'Anomaly score · 0–10',
      'CPU · cores',
      'Memory · MiB',
      'Latency (p95) · ms',
    ]);
    // The PromQL, copyable, and a link to the operator's Prometheus for the same range.
    const query = await page.locator('.anomaly-ext .ae-query code').textContent();
    expect(query).toBe(
      'sum(rate(container_cpu_usage_seconds_total{namespace="guestbook", ' +
        'pod=~"guestbook-ui-[a-z0-9]+-[a-z0-9]+", container!=""}[5m]))',
    );
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: server.url,
    });
    await page.getByRole('button', { name: 'Copy PromQL' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    await expect(page.evaluate('navigator.clipboard.readText()')).resolves.toBe(query);
    const link = page.getByRole('link', { name: /Open in prometheus\.example\.com/ });
    await expect(link.getAttribute('rel')).resolves.toBe('noopener noreferrer');
    const href = new URL((await link.getAttribute('href')) ?? '');
    expect(href.origin).toBe('https://prometheus.example.com');
    expect(href.searchParams.get('g0.expr')).toBe(query);
    expect(href.searchParams.get('g0.range_input')).toBe(`${6 * 3600}s`);
    await shot(page, `react${react}-explained`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('says "anomalous now" only while a window runs at the end of the range', async () => {
    const { page, errors } = await open({ react, tab: 'anomalies', scenario: 'ongoing' });
    await page.getByRole('img', { name: /Anomaly chart/ }).waitFor();
    await expect(page.locator('.ae-state').textContent()).resolves.toContain('Anomalous now');
    await expect(page.locator('.ae-state-note').textContent()).resolves.toMatch(/^since /);
    await expect(page.locator('.anomaly-ext .ae-window-item').textContent()).resolves.toMatch(
      /^CPU [23](\.\d)?× above usual since /,
    );
    const normal = await open({ react, tab: 'anomalies', scenario: 'normal' });
    await normal.page.getByRole('img', { name: /Anomaly chart/ }).waitFor();
    await expect(normal.page.locator('.ae-state').textContent()).resolves.toContain('Normal');
    await expect(normal.page.locator('.ae-state-note').textContent()).resolves.toBe(
      'no anomalies in the last 6 hours',
    );
    await expect(normal.page.locator('.anomaly-ext .ae-windows').count()).resolves.toBe(0);
    expect([...errors, ...normal.errors]).toEqual([]);
    await page.close();
    await normal.page.close();
  });

  it.each([
    [1280, '7d'],
    [1280, '6h'],
    [560, '6h'],
    [420, '24h'],
  ])('overlaps no text at a %i px wide page (%s)', async (width, range) => {
    const page = await context.newPage();
    await page.setViewportSize({ width, height: 900 });
    const errors = collectErrors(page);
    await page.goto(`${server.url}/?${new URLSearchParams({ react, tab: 'anomalies' })}`);
    await page.getByRole('img', { name: /Anomaly chart/ }).waitFor();
    if (range !== '6h') {
      await page
        .getByRole('radio', { name: `last ${range === '7d' ? '7 days' : '24 hours'}` })
        .check();
      await page.getByRole('heading', { name: range === '7d' ? /7 days/ : /24 hours/ }).waitFor();
      await page.waitForFunction(
        `document.querySelector('.anomaly-ext section, .anomaly-ext')?.getAttribute('aria-busy') === 'false'`,
      );
    }
    const problems = await page.evaluate(TEXT_OVERLAPS);
    await shot(page, `react${react}-width-${width}-${range}`);
    expect(problems).toEqual([]);
    // Every label is there: the chart does not drop them all to avoid collisions.
    await expect(page.locator('.anomaly-ext svg text.ae-time').count()).resolves.toBeGreaterThan(1);
    await expect(page.locator('.anomaly-ext svg text.ae-tick').count()).resolves.toBe(12);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('is offered for a Pod (core group) and the Application, not for a Service', async () => {
    const pod = await open({ react, resource: 'pod', tab: 'anomalies' });
    await pod.page.getByRole('img', { name: /Anomaly chart/ }).waitFor();
    expect(lastRequest().query).toMatchObject({ group: '', kind: 'Pod' });
    await pod.page.close();

    const app = await open({ react, resource: 'application', tab: 'anomalies' });
    await app.page.getByRole('img', { name: /Anomaly chart/ }).waitFor();
    expect(lastRequest().query).toMatchObject({
      group: 'argoproj.io',
      kind: 'Application',
      name: 'guestbook',
    });
    await app.page.close();

    const service = await open({ react, resource: 'service' });
    await service.page.getByRole('tab', { name: 'Summary' }).waitFor();
    await expect(service.page.getByRole('tab', { name: 'Anomalies' }).count()).resolves.toBe(0);
    await service.page.close();
  });

  it.each([
    [
      '403',
      [
        /Missing permission: extensions, invoke, anomaly/,
        /p, alice, extensions, invoke, anomaly, allow/,
      ],
    ],
    ['401', [/Your Argo CD session has ended/, /Log in to Argo CD again/]],
    ['503', [/backend is unreachable/, /the delegate that connects to it/]],
    ['504', [/did not answer in time/]],
  ])('explains a %s', async (scenario, patterns) => {
    const { page, errors } = await open({ react, tab: 'anomalies', scenario });
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const text = (await alert.textContent()) ?? '';
    for (const pattern of patterns) expect(text).toMatch(pattern);
    await shot(page, `react${react}-error-${scenario}`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('labels sample data and shows a no-data state', async () => {
    const sample = await open({ react, tab: 'anomalies', scenario: 'sample' });
    await sample.page.getByRole('note', { name: 'Sample data' }).waitFor();
    await shot(sample.page, `react${react}-sample`);
    await sample.page.close();

    const empty = await open({ react, tab: 'anomalies', scenario: 'empty' });
    await empty.page.getByText(/No data for this resource/).waitFor();
    await empty.page.close();
  });

  it('keeps its size while loading (no layout shift)', async () => {
    const { page } = await open({ react, tab: 'anomalies', scenario: 'slow' });
    const box = page.locator('.anomaly-ext .ae-chart-box');
    await page.getByText('Loading anomalies…').waitFor();
    const loading = await box.boundingBox();
    await page.getByRole('img', { name: /Anomaly chart/ }).waitFor();
    const loaded = await box.boundingBox();
    expect(loaded).toEqual(loading);
    await page.close();
  });

  it('can be used with the keyboard alone', async () => {
    const { page, errors } = await open({ react, tab: 'anomalies' });
    await page.getByRole('img', { name: /Anomaly chart/ }).waitFor();
    await page.getByRole('tab', { name: 'Anomalies' }).focus();
    const focused = () =>
      page.evaluate(
        "document.activeElement.getAttribute('aria-label') || document.activeElement.textContent.trim()",
      );

    await page.keyboard.press('Tab');
    await expect(focused()).resolves.toBe('last 6 hours');
    const before = server.requests.length;
    await page.keyboard.press('ArrowRight');
    await expect(focused()).resolves.toBe('last 24 hours');
    await page.getByRole('heading', { name: /last 24 hours/ }).waitFor();
    // The heading changes at once; the request goes out after React re-renders.
    await eventually(() => expect(server.requests.length).toBe(before + 1), 10_000);
    expect(Number(lastRequest().query.to) - Number(lastRequest().query.from)).toBe(86400);
    // The previous chart stays on screen (dimmed) while the new range loads, and Refresh is
    // disabled until the answer is in: Tab would skip it. Wait for the answer, as a user would.
    await page.getByRole('img', { name: /Anomaly chart/ }).waitFor();
    await page.waitForFunction(`document.querySelector('.anomaly-ext button').disabled === false`);
    await expect(focused()).resolves.toBe('last 24 hours');

    await page.keyboard.press('Tab');
    await expect(focused()).resolves.toBe('Refresh');
    await shot(page, `react${react}-keyboard-focus`);
    await page.keyboard.press('Enter');
    // The refresh request is sent after React re-renders: wait for it, not for the button
    // (which may not have been disabled yet when first checked).
    await eventually(() => expect(server.requests.length).toBe(before + 2), 10_000);
    await page.waitForFunction(`document.querySelector('.anomaly-ext button').disabled === false`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('leaves the tab while a request is in flight without errors', async () => {
    const { page, errors } = await open({ react, tab: 'anomalies', scenario: 'slow' });
    await page.getByText('Loading anomalies…').waitFor();
    await page.getByRole('tab', { name: 'Summary' }).click();
    await page.waitForTimeout(2000); // past the fixture's 1.5 s delay
    await expect(page.locator('.anomaly-ext').count()).resolves.toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('renders in the dark theme', async () => {
    const { page } = await open({ react, tab: 'anomalies', theme: 'dark' });
    await page.getByRole('img', { name: /Anomaly chart/ }).waitFor();
    const color = await page.evaluate(
      "getComputedStyle(document.querySelector('.anomaly-ext .ae-toolbar h2')).color",
    );
    expect(color).toBe('rgb(222, 230, 235)'); // inherited from the host's dark theme
    await shot(page, `react${react}-dark`);
    await page.close();
  });
});

/**
 * Argo CD under `server.rootpath` /argocd: the host page at /argocd/ with
 * `<base href="/argocd/">`, its session cookie scoped to /argocd, and the real sidecar
 * with `--rootpath /argocd` behind the same origin (as behind the Ingress), in front of a
 * backend that answers like the anomaly service.
 */
describe('the Anomalies tab under a root path', () => {
  const env = new Environment();
  const seen: Array<{ url: string; headers: http.IncomingHttpHeaders }> = [];
  const backend = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    const url = new URL(req.url ?? '/', 'http://backend');
    const answer =
      url.pathname === '/api/v1/anomalies'
        ? answerAnomalies(Object.fromEntries(url.searchParams), req.headers, 'ok')
        : { status: 404, body: { error: 'not found', status: 404 } };
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  let host: DevServer;

  beforeAll(async () => {
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const { port } = backend.address() as AddressInfo;
    await env.start({
      extraFlags: ['--rootpath', '/argocd'],
      cm: {
        'extension.config': `extensions:\n- name: anomaly\n  backend:\n    services:\n    - url: http://127.0.0.1:${port}\n`,
      },
    });
    host = await startDevServer({
      port: 0,
      rootPath: '/argocd',
      extensionsUpstream: env.sidecar.url,
      login: { users: [{ name: 'alice', note: '' }], token: (user) => localSession(user) },
    });
  });

  afterAll(async () => {
    await host?.close();
    await env.stop();
    backend.closeAllConnections();
    await new Promise((resolve) => backend.close(resolve));
  });

  it('loads its data from /argocd/extensions/anomaly/ through the sidecar', async () => {
    const page = await context.newPage();
    // Chromium's own /favicon.ico request (outside the root: 404) is logged as a console
    // error but is no page request; every request the page makes must succeed.
    const errors = collectErrors(page);
    page.on('response', (r) => {
      if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
    });
    const calls: string[] = [];
    page.on('request', (req) => {
      if (req.url().includes('extensions/anomaly')) calls.push(new URL(req.url()).pathname);
    });

    await page.goto(`${host.url}/argocd/login`);
    await page.getByRole('button', { name: 'alice' }).click();
    await page.waitForURL(`${host.url}/argocd/?react=19`);
    await expect(page.evaluate('document.baseURI')).resolves.toBe(`${host.url}/argocd/`);
    const cookies = await context.cookies(`${host.url}/argocd/`);
    expect(cookies.find((c) => c.name === 'argocd.token')).toMatchObject({
      path: '/argocd',
      httpOnly: true,
    });

    await page.goto(`${host.url}/argocd/?react=19&tab=anomalies`);
    await page.getByRole('img', { name: /Anomaly chart/ }).waitFor();
    await expect(page.locator('.ae-state').textContent()).resolves.toContain('Normal now');
    expect(calls.length).toBeGreaterThan(0);
    expect(new Set(calls)).toEqual(new Set(['/argocd/extensions/anomaly/api/v1/anomalies']));
    // The backend sees the path after /argocd/extensions/anomaly, and who asked.
    const last = seen[seen.length - 1];
    expect(last.url).toMatch(/^\/api\/v1\/anomalies\?group=apps&kind=Deployment&/);
    expect(last.headers['argocd-username']).toBe('alice');
    expect(last.headers['argocd-application-name']).toBe('argocd:guestbook');
    expect(env.sidecar.loggedRequest('/argocd/extensions/anomaly/api/v1/anomalies')).toBe(true);
    await shot(page, 'rootpath-argocd-react19');
    expect(errors).toEqual([]);
    await page.close();
  });
});

/**
 * The operator's choice of kinds (docs/install.md, "Which resources get the tab"): the
 * built install-extension command writes its settings beside the bundle, the page loads
 * both in argocd-server's order, and the tab follows the settings, not the defaults.
 */
describe('the tab on the kinds the installer was given', () => {
  let dir: string;
  let host: DevServer;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'extensions-'));
    const tar = path.resolve(__dirname, '../../dist/extension/extension-anomaly.tar');
    execFileSync(process.execPath, [
      path.resolve(__dirname, '../../proxy-server/bin/argocd-extension-proxy'),
      'install-extension',
      `--from=${tar}`,
      `--to=${dir}`,
      '--tab-kinds=Service,apps/ReplicaSet',
    ]);
    host = await startDevServer({ port: 0, extensionsDir: dir });
  });

  afterAll(async () => {
    await host?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(['16', '19'])(
    'on React %s: Service and ReplicaSet get it, Deployment does not',
    async (react) => {
      const page = await context.newPage();
      const errors = collectErrors(page);
      const tabs = async (resource: string) => {
        await page.goto(`${host.url}/?${new URLSearchParams({ react, resource })}`);
        await page.getByRole('tab', { name: 'Summary' }).waitFor();
        return page.getByRole('tab', { name: 'Anomalies' }).count();
      };
      await expect(tabs('service')).resolves.toBe(1);
      await expect(tabs('replicaset')).resolves.toBe(1);
      await expect(tabs('deployment')).resolves.toBe(0);
      await expect(tabs('pod')).resolves.toBe(0);
      expect(errors).toEqual([]);
      await page.close();
    },
  );
});
