import { ChildProcess, spawn, spawnSync } from 'child_process';
import http from 'http';
import type { AddressInfo } from 'net';
import { join } from 'path';
import { Blackhole } from '../helpers/blackhole';
import { appHeaders, DEFAULT_POLICY, Environment } from '../helpers/environment';
import { localSession } from '../helpers/local-tokens';
import { type OidcProvider, startOidcProvider } from '../helpers/oidc';
import { freePort } from '../helpers/processes';
import { PrometheusProcess } from '../helpers/prometheus-process';
import { REPO_ROOT } from '../helpers/sidecar-process';
import { TcpTap } from '../helpers/tcp-tap';
import { planQueries } from '../../backends/anomaly-detection/src/service/plan-queries';
import {
  DEFAULT_QUERIES,
  NAME_PATTERN_FALLBACK,
  renderQuery,
  workloadSummaryQueries,
} from '../../backends/anomaly-detection/src/sources/metric-queries';
import { PrometheusSource } from '../../backends/anomaly-detection/src/sources/prometheus-source';

const BACKEND = join(REPO_ROOT, 'backends', 'anomaly-detection', 'bin', 'anomaly-backend');
/** The public Argo CD URL: Dex's issuer is `<url>/api/dex`. */
const ARGOCD_URL = 'https://argocd.example.test';

/** bin/anomaly-backend as a child process on an ephemeral loopback port (npm test builds first). */
class BackendProcess {
  readonly lines: string[] = [];
  url = '';
  private child?: ChildProcess;

  constructor(private readonly args: string[]) {}

  async start(): Promise<this> {
    const child = spawn(process.execPath, [BACKEND, '--listen', '127.0.0.1:0', ...this.args], {
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const parts = buffered.split('\n');
        buffered = parts.pop() ?? '';
        for (const line of parts) {
          this.lines.push(line);
          const entry = JSON.parse(line) as { msg?: string; address?: string };
          if (entry.msg === 'listening') {
            this.url = `http://${entry.address}`;
            resolve();
          }
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => this.lines.push(chunk.toString('utf8')));
      child.once('exit', (code) =>
        reject(new Error(`anomaly-backend exited (${code}):\n${this.lines.join('\n')}`)),
      );
    });
    return this;
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child!.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }

  /** The parsed request log lines. */
  requestLogs(): Record<string, unknown>[] {
    return this.lines
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e.msg === 'request');
  }
}

const QUERY = {
  group: 'apps',
  kind: 'Deployment',
  namespace: 'guestbook',
  name: 'guestbook-ui',
  from: '1795300000',
  to: '1795321600',
  step: '60',
};

async function getAnomalies(
  base: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${base}/api/v1/anomalies?${new URLSearchParams(params)}`, {
    headers,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Checks the shape docs/anomaly-api.md promises. */
function expectContractShape(body: Record<string, unknown>, from: number, to: number): void {
  const series = body.series as {
    metric: string;
    label: string;
    unit: string;
    points: [number, number | null][];
  }[];
  const scores = body.scores as [number, number | null][];
  const ascending = (points: [number, unknown][]) =>
    points.every(([t], i) => i === 0 || t > points[i - 1][0]);
  expect(series.length).toBeGreaterThan(0);
  for (const s of series) {
    expect(typeof s.label).toBe('string');
    expect(typeof s.unit).toBe('string');
    expect(ascending(s.points)).toBe(true);
    expect(s.points[0][0]).toBeGreaterThanOrEqual(from);
    expect(s.points[s.points.length - 1][0]).toBeLessThanOrEqual(to);
  }
  expect(ascending(scores)).toBe(true);
  for (const [, score] of scores) {
    if (score !== null) {
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(10);
    }
  }
  const summary = body.summary as Record<string, unknown>;
  expect(['normal', 'anomalous', 'unknown']).toContain(summary.state);
  for (const key of ['score', 'maxScore']) {
    expect(summary[key]).toBeGreaterThanOrEqual(0);
    expect(summary[key]).toBeLessThanOrEqual(10);
  }
  const windows = body.windows as { start: number; end: number; score: number; metric: string }[];
  expect(summary.anomalousWindows).toBe(windows.length);
  for (const w of windows) {
    expect(w.end).toBeGreaterThan(w.start);
    expect(series.map((s) => s.metric)).toContain(w.metric);
  }
  // Added later: each window's drivers (its own metric first) and each series' own scores.
  for (const w of windows as unknown as { metric: string; drivers: Record<string, unknown>[] }[]) {
    expect(w.drivers[0].metric).toBe(w.metric);
    for (const d of w.drivers) {
      expect(['up', 'down']).toContain(d.direction);
      expect(typeof d.query).toBe('string');
    }
  }
  for (const s of series as unknown as { points: [number][]; scores: [number][] }[]) {
    expect(s.scores.map(([t]) => t)).toEqual(s.points.map(([t]) => t));
  }
}

describe('bin/anomaly-backend --sample', () => {
  let backend: BackendProcess;
  beforeAll(async () => {
    backend = await new BackendProcess(['--sample']).start();
  });
  afterAll(() => backend.stop());

  it('answers GET /api/v1/anomalies in the documented shape, labelled as sample data', async () => {
    const { status, body } = await getAnomalies(backend.url, QUERY);
    expect(status).toBe(200);
    expect(body.source).toBe('sample');
    expect(body.resource).toEqual({
      group: 'apps',
      kind: 'Deployment',
      namespace: 'guestbook',
      name: 'guestbook-ui',
    });
    expect(body.range).toEqual({ from: 1795300000, to: 1795321600, step: 60 });
    expectContractShape(body, 1795300000, 1795321600);
    // The sample data has an incident every 5 h 50 min, so six hours show at least one.
    expect((body.summary as { state: string }).state).toBe('anomalous');
    expect((body.series as { metric: string }[]).map((s) => s.metric).slice(0, 3)).toEqual([
      'cpu',
      'memory',
      'restarts',
    ]);
  });

  it('answers the same range with the same data', async () => {
    const first = await getAnomalies(backend.url, QUERY);
    const second = await getAnomalies(backend.url, QUERY);
    expect(second.body).toEqual(first.body);
  });

  it.each([
    [{ kind: 'Service' }, 'kind'],
    [{ from: '1795321600' }, 'from'],
    [{ step: '0' }, 'step'],
    [{ name: 'a"}) or vector(1) #' }, 'name'],
    [{ from: '1700000000' }, 'from'],
  ])('answers 400 naming the parameter for %j', async (overrides, parameter) => {
    const { status, body } = await getAnomalies(backend.url, { ...QUERY, ...overrides });
    expect(status).toBe(400);
    expect(body).toMatchObject({ status: 400, parameter });
    expect(typeof body.error).toBe('string');
  });

  it('logs the identity headers the sidecar sends', async () => {
    await getAnomalies(backend.url, QUERY, {
      'Argocd-Username': 'alice@example.com',
      'Argocd-Application-Name': 'argocd:guestbook',
    });
    // The line is written once the response has been sent: wait for it.
    let entry: Record<string, unknown> | undefined;
    for (let i = 0; i < 50 && !entry; i++) {
      entry = backend.requestLogs().find((e) => e.user === 'alice@example.com');
      if (!entry) await new Promise((r) => setTimeout(r, 20));
    }
    expect(entry).toMatchObject({ application: 'argocd:guestbook', method: 'GET', status: 200 });
  });

  it('answers /healthz, 404 for other paths and 405 for other methods', async () => {
    expect((await fetch(`${backend.url}/healthz`)).status).toBe(200);
    const missing = await fetch(`${backend.url}/api/v1/other`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ status: 404 });
    expect((await fetch(`${backend.url}/api/v1/anomalies`, { method: 'POST' })).status).toBe(405);
  });
});

describe('bin/anomaly-backend behind the real sidecar', () => {
  const env = new Environment();
  let backend: BackendProcess;
  let tap: TcpTap;
  let dex: OidcProvider;
  const token = localSession('admin');
  beforeAll(async () => {
    backend = await new BackendProcess(['--sample']).start();
    const target = new URL(backend.url);
    // Between the sidecar and the backend: the bytes the backend really received.
    tap = await new TcpTap({ host: target.hostname, port: Number(target.port) }).start();
    // SSO sessions too, for a user with groups (a local user has none).
    dex = await startOidcProvider({
      mountPath: '/api/dex',
      issuerOrigin: ARGOCD_URL,
      clients: [{ client_id: 'argo-cd' }],
    });
    await env.start({
      cm: {
        'extension.config.anomalies': `services:\n- url: ${tap.url}\n`,
        url: ARGOCD_URL,
        'dex.config': 'connectors: []\n',
      },
      policy: `${DEFAULT_POLICY}\np, role:sre, extensions, invoke, anomalies, allow\ng, my-org:sre, role:sre`,
      extraFlags: ['--dex-server', dex.url],
    });
  });
  afterAll(async () => {
    await env.stop();
    await tap.stop();
    await backend.stop();
    await dex?.stop();
  });

  /**
   * Sends one request through the sidecar and returns the head the backend received for
   * it, parsed from the tap's bytes: the request line and each header's values by
   * lower-case name.
   */
  async function receivedHead(headers: Record<string, string>) {
    const before = tap.requestHeads().length;
    const { status } = await getAnomalies(
      `${env.sidecar.url}/extensions/anomalies`,
      QUERY,
      headers,
    );
    expect(status).toBe(200);
    const heads = tap.requestHeads();
    expect(heads.length).toBe(before + 1);
    const [requestLine, ...lines] = heads[heads.length - 1];
    const received = new Map<string, string[]>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      received.set(name, [...(received.get(name) ?? []), line.slice(colon + 1).trim()]);
    }
    return { requestLine, headers: received };
  }

  it('has a tap that would see a cookie (the check below can fail)', async () => {
    const before = tap.requestHeads().length;
    const response = await fetch(`${tap.url}/healthz`, { headers: { cookie: 'probe=1' } });
    expect(response.status).toBe(200);
    const heads = tap.requestHeads();
    expect(heads.length).toBe(before + 1);
    expect(heads[heads.length - 1]).toContain('cookie: probe=1');
    expect(tap.bytes()).toContain('probe=1');
  });

  it('answers through /extensions/<name>/ and logs who asked, never the session token', async () => {
    const { status, body } = await getAnomalies(`${env.sidecar.url}/extensions/anomalies`, QUERY, {
      cookie: `argocd.token=${token}`,
      ...appHeaders('argocd:guestbook', 'default'),
    });
    expect(status).toBe(200);
    expect(body.source).toBe('sample');
    let entry: Record<string, unknown> | undefined;
    for (let i = 0; i < 50 && !entry; i++) {
      entry = backend.requestLogs().find((e) => e.user === 'admin');
      if (!entry) await new Promise((r) => setTimeout(r, 20));
    }
    expect(entry).toMatchObject({ application: 'argocd:guestbook', status: 200 });
    expect(backend.lines.join('\n')).not.toContain(token);
  });

  it('receives the identity headers and never the cookie, the Authorization header or the token', async () => {
    const { requestLine, headers } = await receivedHead({
      cookie: `argocd.token=${token}; other=1`,
      authorization: `Bearer ${token}`,
      'argocd-username': 'mallory',
      'argocd-user-groups': 'admins',
      ...appHeaders('argocd:guestbook', 'default'),
    });
    expect(requestLine).toMatch(/^GET \/api\/v1\/anomalies\?\S+ HTTP\/1\.1$/);
    expect(headers.get('argocd-username')).toEqual(['admin']);
    expect(headers.get('argocd-user-id')).toEqual(['admin']);
    // A local user has no groups: the sidecar sends no Argocd-User-Groups, and the
    // spoofed one is gone.
    expect(headers.has('argocd-user-groups')).toBe(false);
    expect(headers.get('argocd-application-name')).toEqual(['argocd:guestbook']);
    expect(headers.get('argocd-project-name')).toEqual(['default']);
    expect(headers.has('cookie')).toBe(false);
    expect(headers.has('authorization')).toBe(false);
    // Nowhere in anything the backend has been sent, headers or bodies.
    expect(tap.bytes()).not.toContain(token);
    expect(tap.bytes()).not.toContain('mallory');
    expect(tap.bytes()).not.toContain('other=1');
    expect(tap.bytes()).not.toContain('admins');
  });

  it('receives an SSO user’s groups, and never its ID token or any cookie', async () => {
    const idToken = await dex.issueIdToken({
      sub: 'CiQwOGE4Njg0Yi1kYjg4LTRiNzMtOTBhOS0zY2QxNjYxZjU0NjYSBWxvY2Fs',
      email: 'dora@example.com',
      groups: ['other', 'my-org:sre'],
      federated_claims: { connector_id: 'github', user_id: 'dora-gh' },
    });
    const { headers } = await receivedHead({
      cookie: `theme=dark; argocd.token=${idToken}; other=1`,
      'argocd-user-groups': 'admins',
      ...appHeaders('team-a:payments', 'team-a'),
    });
    expect(headers.get('argocd-username')).toEqual(['dora@example.com']);
    expect(headers.get('argocd-user-id')).toEqual(['dora-gh']);
    expect(headers.get('argocd-user-groups')).toEqual(['other,my-org:sre']);
    expect(headers.get('argocd-application-name')).toEqual(['team-a:payments']);
    expect(headers.get('argocd-project-name')).toEqual(['team-a']);
    expect(headers.has('cookie')).toBe(false);
    expect(headers.has('authorization')).toBe(false);
    expect(tap.bytes()).not.toContain(idToken);
    // The signature alone, in case the token were re-encoded on the way.
    expect(tap.bytes()).not.toContain(idToken.split('.')[2]);
    expect(tap.bytes()).not.toContain('theme=dark');
    expect(tap.bytes()).not.toContain('admins');
  });
});

describe('bin/anomaly-backend --prometheus, when Prometheus fails', () => {
  it('answers 502 when Prometheus is unreachable', async () => {
    const port = await freePort(); // nothing listens there any more
    const backend = await new BackendProcess(['--prometheus', `http://127.0.0.1:${port}`]).start();
    try {
      const { status, body } = await getAnomalies(backend.url, QUERY);
      expect(status).toBe(502);
      expect(body).toMatchObject({ status: 502 });
      expect(body.error).toMatch(/Prometheus unreachable/);
    } finally {
      await backend.stop();
    }
  });

  it('answers 504 when Prometheus does not answer in time', async () => {
    const blackhole = new Blackhole();
    const port = await blackhole.start();
    const backend = await new BackendProcess([
      '--prometheus',
      `http://127.0.0.1:${port}`,
      '--timeout',
      '0.5',
    ]).start();
    try {
      const { status, body } = await getAnomalies(backend.url, QUERY);
      expect(status).toBe(504);
      expect(body).toMatchObject({ status: 504 });
    } finally {
      await backend.stop();
      blackhole.stop();
    }
  });

  it('answers 502 with a short message when Prometheus returns an error', async () => {
    const prometheus = http.createServer((_req, res) => {
      res.writeHead(422, { 'content-type': 'application/json' });
      res.end(
        '{"status":"error","errorType":"execution","error":"query timed out in expression evaluation"}',
      );
    });
    await new Promise<void>((r) => prometheus.listen(0, '127.0.0.1', r));
    const port = (prometheus.address() as AddressInfo).port;
    const backend = await new BackendProcess(['--prometheus', `http://127.0.0.1:${port}`]).start();
    try {
      const { status, body } = await getAnomalies(backend.url, QUERY);
      expect(status).toBe(502);
      expect(body.error).toBe('Prometheus query failed: query timed out in expression evaluation');
    } finally {
      await backend.stop();
      await new Promise((r) => prometheus.close(r));
    }
  });
});

/** Debian's `prometheus` package (.ci/run installs it); without it, skip only outside CI. */
const HAS_PROMETHEUS =
  spawnSync('prometheus', ['--version']).status === 0 &&
  spawnSync('promtool', ['--version']).status === 0;
if (!HAS_PROMETHEUS && process.env.CI === 'true') {
  throw new Error('prometheus and promtool must be installed under CI (see .ci/run)');
}
const describeWithPrometheus = HAS_PROMETHEUS ? describe : describe.skip;

const STEP = 60;
const DAY = 86400;
const WEEK = 7 * DAY;
/**
 * End of the backfilled data: a fixed Monday 11:00 UTC in the past (backfill must be in the
 * past), so that every run scores the same data. The series' wiggle depends on absolute
 * time, and an end that followed the clock made the detector's answers change hour by
 * hour: with the data ending 2026-12-07 11:00 it raised a false CPU window at the edge of
 * the weekly burst (score 7.4, down, factor 0.83), and on several other days the ×1.5
 * release measured 1.63.
 */
const DATA_END = Date.UTC(2026, 10, 30, 11) / 1000;
/**
 * 15 days of data, so the history the service reads for the last two hours is there: down
 * to two weeks and 12 hours before them (backends/anomaly-detection/README.md, "History").
 */
const DATA_START = DATA_END - 15 * DAY;
/** A CPU surge in guestbook-ui during the last two hours. */
const SURGE_START = DATA_END - 50 * 60;
const SURGE_END = SURGE_START + 15 * 60;
/**
 * A weekly CPU burst in guestbook-ui (a batch job: ×4 for 20 minutes), in the last two hours
 * and at the same time 7 and 14 days earlier: a weekly pattern, not an anomaly.
 */
const BURST_START = DATA_END - 105 * 60;
const BURST_END = BURST_START + 20 * 60;
const inWeeklyBurst = (t: number) =>
  [0, 1, 2].some((w) => t >= BURST_START - w * WEEK && t < BURST_END - w * WEEK);

/** A release in checkout: its CPU ×1.5 from 80 minutes before the end of the data, lasting. */
const RELEASE_AT = DATA_END - 80 * 60;
/** A slow drift in billing: its CPU ramps to ×2 over 10 hours, from 8 hours before the end. */
const DRIFT_START = DATA_END - 8 * 3600;
const DRIFT_SECONDS = 10 * 3600;

/** The Deployment `web`'s rollout: ReplicaSet web-5f6g7 before it, web-7c9d8 after it. */
const ROLLOUT = DATA_END - 5 * DAY;
/**
 * CPU (cores) of one pod of the Deployment `web` in namespace `shop`: 0.2, ×4 during the
 * weekly burst (so two pods make 0.4, and 1.6 in the burst).
 */
const webPodCpu = (t: number) => (inWeeklyBurst(t) ? 0.8 : 0.2);
/** CPU of the StatefulSet `web-db`'s pod `web-db-0`: clearly not web's. */
const WEB_DB_CPU = 5;

/** A pod's CPU series: namespace, name, lifetime `[start, end]` and cores at each time. */
interface PodCpu {
  namespace: string;
  pod: string;
  start: number;
  end: number;
  rate: (t: number) => number;
}

/**
 * OpenMetrics text for promtool: a deployment with a weekly burst and a surge, a release
 * (×1.5) and a slow drift, and decoys (namespace `guestbook`, no kube-state-metrics); in namespace `shop`, a Deployment `web`
 * (last week's ReplicaSet web-5f6g7, deleted at the rollout, and this week's web-7c9d8) and
 * a StatefulSet `web-db`, whose pod web-db-0 matches web's old name pattern, with the
 * kube-state-metrics ownership series; in namespace `legacy`, the same names without them.
 */
function generateOpenMetrics(): string {
  const everything = { start: DATA_START, end: DATA_END };
  const pods: PodCpu[] = [
    // guestbook-ui: 0.2 cores, ×4 during the weekly burst, ×5 during the surge.
    {
      namespace: 'guestbook',
      pod: 'guestbook-ui-6d4f8-abc12',
      ...everything,
      rate: (t) => (t >= SURGE_START && t < SURGE_END ? 1 : inWeeklyBurst(t) ? 0.8 : 0.2),
    },
    // web.v1 is a name with a regex metacharacter; webxv1 must not match its pod regex.
    { namespace: 'guestbook', pod: 'web.v1-6d4f8-abc12', ...everything, rate: () => 0.2 },
    { namespace: 'guestbook', pod: 'webxv1-6d4f8-abc12', ...everything, rate: () => 100 },
    // checkout: 0.3 cores, ×1.5 after a release (a lasting step).
    {
      namespace: 'guestbook',
      pod: 'checkout-7c9d2-xyz12',
      ...everything,
      rate: (t) => (t >= RELEASE_AT ? 0.45 : 0.3),
    },
    // billing: 0.3 cores, drifting up.
    {
      namespace: 'guestbook',
      pod: 'billing-5f6a1-qwe34',
      ...everything,
      rate: (t) => 0.3 * Math.pow(2, Math.min(1, Math.max(0, (t - DRIFT_START) / DRIFT_SECONDS))),
    },
  ];
  const memoryPods = pods.map((p) => p.pod);
  const webOld = ['web-5f6g7-pqrst', 'web-5f6g7-uvwxy'];
  const webNew = ['web-7c9d8-abcde', 'web-7c9d8-fghij'];
  for (const pod of webOld) {
    pods.push({ namespace: 'shop', pod, start: DATA_START, end: ROLLOUT - STEP, rate: webPodCpu });
  }
  for (const pod of webNew) {
    pods.push({ namespace: 'shop', pod, start: ROLLOUT, end: DATA_END, rate: webPodCpu });
  }
  pods.push({ namespace: 'shop', pod: 'web-db-0', ...everything, rate: () => WEB_DB_CPU });
  pods.push({ namespace: 'legacy', pod: 'web-7c9d8-abcde', ...everything, rate: () => 0.2 });
  pods.push({ namespace: 'legacy', pod: 'web-db-0', ...everything, rate: () => WEB_DB_CPU });

  const lines = ['# TYPE container_cpu_usage_seconds_total counter'];
  for (const { namespace, pod, start, end, rate } of pods) {
    let total = 0;
    for (let t = start; t <= end; t += STEP) {
      total += rate(t) * STEP * (1 + 0.05 * Math.sin(t / 700));
      lines.push(
        `container_cpu_usage_seconds_total{namespace="${namespace}",pod="${pod}",container="app"} ${total.toFixed(3)} ${t}`,
      );
    }
  }
  lines.push('# TYPE container_memory_working_set_bytes gauge');
  for (const pod of memoryPods) {
    for (let t = DATA_START; t <= DATA_END; t += STEP) {
      const bytes = Math.round(2e8 * (1 + 0.03 * Math.sin(t / 900)));
      lines.push(
        `container_memory_working_set_bytes{namespace="guestbook",pod="${pod}",container="app"} ${bytes} ${t}`,
      );
    }
  }
  // kube-state-metrics, in namespace shop only: each series for as long as its object exists.
  const gauge = (labels: string, start: number, end: number) => {
    for (let t = start; t <= end; t += STEP) lines.push(`${labels} 1 ${t}`);
  };
  lines.push('# TYPE kube_pod_owner gauge');
  const podOwner = (pod: string, kind: string, owner: string, start: number, end: number) =>
    gauge(
      `kube_pod_owner{namespace="shop",pod="${pod}",owner_kind="${kind}",owner_name="${owner}",owner_is_controller="true"}`,
      start,
      end,
    );
  for (const pod of webOld) podOwner(pod, 'ReplicaSet', 'web-5f6g7', DATA_START, ROLLOUT - STEP);
  for (const pod of webNew) podOwner(pod, 'ReplicaSet', 'web-7c9d8', ROLLOUT, DATA_END);
  podOwner('web-db-0', 'StatefulSet', 'web-db', DATA_START, DATA_END);
  lines.push('# TYPE kube_replicaset_owner gauge');
  const replicaSetOwner = (replicaset: string, start: number, end: number) =>
    gauge(
      `kube_replicaset_owner{namespace="shop",replicaset="${replicaset}",owner_kind="Deployment",owner_name="web",owner_is_controller="true"}`,
      start,
      end,
    );
  replicaSetOwner('web-5f6g7', DATA_START, ROLLOUT - STEP);
  replicaSetOwner('web-7c9d8', ROLLOUT, DATA_END);
  lines.push('# EOF');
  return lines.join('\n') + '\n';
}

describeWithPrometheus('bin/anomaly-backend --prometheus, against a real Prometheus', () => {
  let prometheus: PrometheusProcess;
  let backend: BackendProcess;
  const range = {
    ...QUERY,
    from: String(DATA_END - 2 * 3600),
    to: String(DATA_END),
    step: String(STEP),
  };
  // Backfilling two weeks of every series with promtool took over a minute on a busy 2-core
  // machine: room for that, so a slow machine fails nothing.
  beforeAll(async () => {
    prometheus = await new PrometheusProcess(generateOpenMetrics()).start();
    backend = await new BackendProcess(['--prometheus', prometheus.url]).start();
  }, 240_000);
  afterAll(async () => {
    await backend?.stop();
    await prometheus?.stop();
  });

  it('finds the CPU surge in the backfilled data', async () => {
    const { status, body } = await getAnomalies(backend.url, range);
    expect(status).toBe(200);
    expect(body.source).toBe('prometheus');
    expectContractShape(body, Number(range.from), Number(range.to));
    const series = body.series as { metric: string; points: [number, number | null][] }[];
    // No request metrics in this Prometheus: the optional series are left out.
    expect(series.map((s) => s.metric)).toEqual(['cpu', 'memory', 'restarts']);
    // rate() over 5 minutes: the burst shows until 5 minutes after it ends.
    const cpu = series[0].points.filter(
      ([t]) => t < SURGE_START - 600 && !(t >= BURST_START && t < BURST_END + 300),
    );
    expect(cpu.length).toBeGreaterThan(30);
    expect(cpu.every(([, v]) => v !== null && v > 0.15 && v < 0.3)).toBe(true);
    const windows = body.windows as { start: number; end: number; metric: string }[];
    const surge = windows.find((w) => w.metric === 'cpu');
    expect(surge).toBeDefined();
    expect(surge!.start).toBeGreaterThanOrEqual(SURGE_START - 300);
    expect(surge!.start).toBeLessThan(SURGE_END);
    expect((body.summary as { state: string }).state).toBe('anomalous');
  });

  it('does not report a CPU burst that recurs at the same time every week', async () => {
    const { status, body } = await getAnomalies(backend.url, range);
    expect(status).toBe(200);
    const cpu = (body.series as { metric: string; points: [number, number | null][] }[])[0];
    // The burst is in the data the tab shows...
    const burst = cpu.points.filter(([t]) => t >= BURST_START + 300 && t < BURST_END);
    expect(burst.length).toBeGreaterThan(10);
    expect(burst.every(([, v]) => v !== null && v > 0.6)).toBe(true);
    // ...and no window covers it: 7 and 14 days earlier showed the same.
    const windows = body.windows as { start: number; end: number; metric: string }[];
    expect(windows.filter((w) => w.start < BURST_END + 300 && w.end > BURST_START)).toEqual([]);
    // Only the surge is reported.
    expect(windows.length).toBeGreaterThan(0);
    for (const w of windows) {
      expect(w.end).toBeGreaterThan(SURGE_START);
      expect(w.start).toBeLessThan(SURGE_END + 3600);
    }
  });

  /** The backend's request log line for the request whose path contains `marker`. */
  async function requestLog(marker: string): Promise<Record<string, unknown> | undefined> {
    let entry: Record<string, unknown> | undefined;
    for (let i = 0; i < 50 && !entry; i++) {
      entry = backend.requestLogs().find((e) => String(e.path).includes(marker));
      if (!entry) await new Promise((r) => setTimeout(r, 20));
    }
    return entry;
  }

  it('scores a Deployment `web` on its own pods, not on the StatefulSet `web-db`’s web-db-0', async () => {
    const web = { ...range, namespace: 'shop', name: 'web' };
    const { status, body } = await getAnomalies(backend.url, web);
    expect(status).toBe(200);
    expectContractShape(body, Number(range.from), Number(range.to));
    const cpu = (body.series as { metric: string; points: [number, number | null][] }[])[0];
    expect(cpu.metric).toBe('cpu');
    // Two pods of 0.2 cores (×4 in the weekly burst); web-db-0's 5 cores would make 5.4.
    const outsideBurst = cpu.points.filter(([t]) => !(t >= BURST_START && t < BURST_END + 300));
    expect(outsideBurst.length).toBeGreaterThan(60);
    expect(outsideBurst.every(([, v]) => v !== null && v > 0.3 && v < 0.5)).toBe(true);
    expect(cpu.points.every(([, v]) => v !== null && v < 2)).toBe(true);
    // The burst recurs 7 and 14 days earlier, in the pods of ReplicaSet web-5f6g7, which was
    // deleted five days ago: only with those pods in the history is it a weekly pattern.
    const windows = body.windows as { start: number; end: number; metric: string }[];
    expect(windows.filter((w) => w.start < BURST_END + 300 && w.end > BURST_START)).toEqual([]);
    expect(body.podSelection).toBe('kube-state-metrics');
    expect((await requestLog('namespace=shop&name=web&'))?.podSelection).toBe('kube-state-metrics');

    // The StatefulSet web-db sees web-db-0 only.
    const db = await getAnomalies(backend.url, {
      ...web,
      kind: 'StatefulSet',
      name: 'web-db',
    });
    expect(db.status).toBe(200);
    expect(db.body.podSelection).toBe('kube-state-metrics');
    const dbCpu = (db.body.series as { points: [number, number | null][] }[])[0];
    expect(dbCpu.points.every(([, v]) => v !== null && v > 4.5 && v < 5.5)).toBe(true);
  });

  it('finds last week’s ReplicaSet’s pods with the built-in query, after the ReplicaSet is gone', async () => {
    const template = DEFAULT_QUERIES.Deployment.find((d) => d.metric === 'cpu')!.query;
    const query = renderQuery(template, {
      namespace: 'shop',
      name: 'web',
      rateIntervalSeconds: 300,
    });
    const at = async (time: number) => {
      const url = `${prometheus.url}/api/v1/query?${new URLSearchParams({ query, time: String(time) })}`;
      const answer = (await (await fetch(url)).json()) as {
        data: { result: { value: [number, string] }[] };
      };
      return answer.data.result.map((r) => Number(r.value[1]));
    };
    // A week ago: web-5f6g7's two pods (not in the burst then), and not web-db-0.
    const lastWeek = await at(Number(range.from) - WEEK);
    expect(lastWeek).toHaveLength(1);
    expect(lastWeek[0]).toBeGreaterThan(0.3);
    expect(lastWeek[0]).toBeLessThan(0.5);
  });

  it('falls back to the name pattern without kube-state-metrics, and says so', async () => {
    const legacy = { ...range, namespace: 'legacy', name: 'web' };
    const { status, body } = await getAnomalies(backend.url, legacy);
    expect(status).toBe(200);
    expect(body.podSelection).toBe('name-pattern');
    const cpu = (body.series as { points: [number, number | null][] }[])[0];
    // The name pattern's known flaw: web-db-0 (5 cores) matches `web-<hash>-<hash>` too.
    expect(cpu.points.every(([, v]) => v !== null && v > 4.5 && v < 6)).toBe(true);
    expect((await requestLog('namespace=legacy&name=web&'))?.podSelection).toBe('name-pattern');
  });

  it('reports a ×1.5 release as one window from its onset, closed once re-baselined', async () => {
    const { status, body } = await getAnomalies(backend.url, { ...range, name: 'checkout' });
    expect(status).toBe(200);
    const windows = (body.windows as { start: number; end: number; metric: string }[]).filter(
      (w) => w.metric === 'cpu',
    );
    expect(windows).toHaveLength(1);
    // rate() over 5 minutes: the step shows from RELEASE_AT, fully 5 minutes later.
    expect(windows[0].start).toBeGreaterThanOrEqual(RELEASE_AT - 300);
    expect(windows[0].start).toBeLessThanOrEqual(RELEASE_AT + 300);
    // Closed about an hour later (re-baselined), not open to the end of the range.
    expect(windows[0].end).toBeLessThanOrEqual(RELEASE_AT + 3600 + 900);
  });

  it('explains the ×1.5 release: CPU up by a factor of about 1.5, and the PromQL it came from', async () => {
    const { body } = await getAnomalies(backend.url, { ...range, name: 'checkout' });
    type Driver = Record<string, unknown> & { factor: number; expected: number; observed: number };
    const windows = (body.windows as { metric: string; drivers: Driver[] }[]).filter(
      (w) => w.metric === 'cpu',
    );
    expect(windows).toHaveLength(1);
    const [driver] = windows[0].drivers;
    // No kube-state-metrics for checkout: the name-pattern query, rate() over 5 minutes.
    const query = renderQuery(NAME_PATTERN_FALLBACK.Deployment!.queries[0].query, {
      namespace: 'guestbook',
      name: 'checkout',
      rateIntervalSeconds: 300,
    });
    expect(driver).toMatchObject({ metric: 'cpu', unit: 'cores', direction: 'up', query });
    expect(driver.factor).toBeGreaterThan(1.4);
    expect(driver.factor).toBeLessThan(1.6);
    expect(driver.expected).toBeGreaterThan(0.27);
    expect(driver.expected).toBeLessThan(0.33);
    const cpu = (body.series as { metric: string; query: string; history: unknown }[])[0];
    expect(cpu).toMatchObject({ metric: 'cpu', query });
    expect(cpu.history).toMatchObject({ baselines: { seasonal: 121, trend: 0 } });
  });

  it('reports a slow drift while it runs', async () => {
    const { status, body } = await getAnomalies(backend.url, { ...range, name: 'billing' });
    expect(status).toBe(200);
    const windows = (body.windows as { start: number; end: number; metric: string }[]).filter(
      (w) => w.metric === 'cpu',
    );
    expect(windows.length).toBeGreaterThan(0);
    expect((body.summary as { state: string }).state).toBe('anomalous');
    // The same data without the drift (web.v1: flat, the same wiggle) raises nothing.
    const control = await getAnomalies(backend.url, { ...range, name: 'web.v1' });
    expect(control.body.windows).toEqual([]);
  });

  it('summarises workloads with one query per metric, each scored as its own tab scores it', async () => {
    /** Range queries Prometheus has answered so far (its own request counter). */
    const rangeQueries = async () => {
      const text = await (await fetch(`${prometheus.url}/metrics`)).text();
      return text
        .split('\n')
        .filter(
          (l) =>
            l.startsWith('prometheus_http_requests_total{') &&
            l.includes('handler="/api/v1/query_range"'),
        )
        .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    };
    const workloads = [
      { kind: 'Deployment', namespace: 'shop', name: 'web' },
      { kind: 'StatefulSet', namespace: 'shop', name: 'web-db' },
      // No kube-state-metrics in namespace legacy: nothing to score.
      { kind: 'Deployment', namespace: 'legacy', name: 'web' },
    ];
    const params = new URLSearchParams(
      workloads.map((w): [string, string] => [
        'workload',
        `apps/${w.kind}/${w.namespace}/${w.name}`,
      ]),
    );
    params.set('from', range.from);
    params.set('to', range.to);
    params.set('step', range.step);
    const before = await rangeQueries();
    const response = await fetch(`${backend.url}/api/v1/anomalies/summary?${params}`);
    const after = await rangeQueries();
    expect(response.status).toBe(200);
    const summary = (await response.json()) as {
      workloads: {
        state: string;
        score: number;
        maxScore: number;
        anomalousWindows: number;
        podSelection: string;
      }[];
    };
    // One query per default metric and history range, for the three workloads together.
    const { ranges } = planQueries({ from: Number(range.from), to: Number(range.to), step: STEP });
    expect(after - before).toBe(DEFAULT_QUERIES.Deployment.length * ranges.length);

    for (const [i, w] of workloads.slice(0, 2).entries()) {
      const own = await getAnomalies(backend.url, { ...range, ...w });
      expect(own.status).toBe(200);
      const { state, score, maxScore, anomalousWindows } = summary.workloads[i];
      expect({ state, score, maxScore, anomalousWindows }).toEqual(own.body.summary);
      expect(summary.workloads[i].podSelection).toBe('kube-state-metrics');
    }
    expect(summary.workloads[2]).toMatchObject({ state: 'unknown', maxScore: 0, worst: null });

    // The series behind it: the workloads' CPU from the one query equals each one's own query.
    const source = new PrometheusSource({ url: prometheus.url });
    const vars = (w: { namespace: string; name: string }) => ({ ...w, rateIntervalSeconds: 300 });
    const together = renderQuery(
      workloadSummaryQueries(workloads.map((w) => ({ ...w, kind: w.kind as 'Deployment' })))[0]
        .query,
      vars({ namespace: '', name: '' }),
    );
    const own = workloads.map((w) =>
      renderQuery(DEFAULT_QUERIES[w.kind as 'Deployment'][0].query, vars(w)),
    );
    const [from, to] = [Number(range.from), Number(range.to)];
    const grouped = await source.queryRangeGrouped(
      together,
      from,
      to,
      STEP,
      workloads.map((w, k) => ({
        labels: { namespace: w.namespace, workload_kind: w.kind, workload: w.name },
        query: own[k],
      })),
    );
    expect(grouped[0].length).toBe((to - from) / STEP + 1);
    for (const k of [0, 1]) {
      expect(grouped[k]).toEqual(await source.queryRange(own[k], from, to, STEP));
    }
    expect(grouped[2]).toEqual([]);
  });

  it('matches a name with a regex metacharacter literally', async () => {
    const { status, body } = await getAnomalies(backend.url, { ...range, name: 'web.v1' });
    expect(status).toBe(200);
    const cpu = (body.series as { metric: string; points: [number, number | null][] }[])[0];
    expect(cpu.metric).toBe('cpu');
    // Only web.v1-…'s 0.2 cores; webxv1-…'s 100 cores would show if "." were a wildcard.
    expect(cpu.points.every(([, v]) => v !== null && v < 1)).toBe(true);
  });
});
