/**
 * `npm run soak`: steady load on the real sidecar (and a delegate agent) for a while, with
 * faults injected all along, then a report: requests, outcomes by cause, p99 per window,
 * RSS at the start and the end, sockets left open, and every secret searched for in every
 * log line and response. Exit code 1 when anything is unexpected.
 *
 * Faults: a backend that answers 500, stalls, resets or cuts its body at random; the agent
 * killed and restarted; policy reloads, and a broken extension.config while the previous
 * extensions keep serving; forged and expired tokens; a denied user; a rate
 * limit. `SOAK_SECONDS` (default 300) sets the duration; `npm test` runs 60 s of it.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'fs';
import http from 'http';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { FakeArgoCD, guestbook } from '../test/helpers/fake-argocd';
import { signLocalToken, TEST_SERVER_SECRET } from '../test/helpers/local-tokens';
import { ArgoCDConfig } from '../test/helpers/mounted-dir';
import { rssMiB } from '../test/helpers/processes';
import { GC_ON_SIGNAL, SidecarProcess } from '../test/helpers/sidecar-process';
import { runCleanups, stopOnSignals } from './bench-lib/interrupt';

const MIB = 1024 * 1024;

export interface SoakOptions {
  durationS: number;
  /** Concurrent clients. Default: 8. */
  concurrency?: number;
  /** Progress lines (stderr in the CLI). */
  progress?: (line: string) => void;
  /** The CLI: on SIGINT/SIGTERM, stop the sidecar, agents and servers, then exit 130. */
  exitOnSignals?: boolean;
}

export interface SoakReport {
  durationS: number;
  requests: number;
  /** Outcome → count: an HTTP status, or `cut` / a client error code. */
  outcomes: Record<string, number>;
  /** Outcomes no scenario allows (must be empty). */
  unexpected: string[];
  /** Per window: requests, p99, and the sidecar's median RSS in it (under load). */
  windows: Array<{ startS: number; requests: number; p99Ms: number; rssMiB: number }>;
  /**
   * The leak check: the sidecar's RSS in the same state at the start and at the end — after
   * a warm-up (then after the run), 8 s idle, and a full garbage collection.
   */
  rssStartMiB: number;
  rssEndMiB: number;
  /** What is alive in V8's heap at those two points. */
  heapLiveStartMiB: number;
  heapLiveEndMiB: number;
  sockets: { before: SocketCount; after: SocketCount };
  /** Secret values found in logs or responses (must be empty). */
  leaks: string[];
  faults: Record<string, number>;
}

interface SocketCount {
  /** Connections accepted on the extension port, the delegate tunnels excluded. */
  inbound: number;
  /** Connections to the backends (idle ones close after 2 s). */
  backends: number;
  /** Connections to the Argo CD API (Node keeps up to 16 idle). */
  argocd: number;
}

const BACKEND_TOKEN = 'soak-backend-token-5e4d3c2b1a09';
const DELEGATE_TOKEN = 'soak-delegate-token-0a1b2c3d4e5f6789';
const AGENT_SECRET = 'soak-agent-secret-98f7e6d5c4b3';
const WINDOW_S = 5;

/** A backend that misbehaves at random, like a real one on a bad day. */
function flakyBackend(): http.Server {
  return http.createServer((req, res) => {
    req.resume();
    const roll = Math.random();
    if (roll < 0.05) return void req.socket.destroy(); // reset, no answer
    if (roll < 0.1) {
      // Cut mid-body: promises 10,000 bytes, sends 100.
      res.writeHead(200, { 'content-length': '10000' });
      res.write(Buffer.alloc(100));
      setTimeout(() => res.destroy(), 10);
      return;
    }
    if (roll < 0.2) {
      res.writeHead(500, { 'content-type': 'application/json' });
      return void res.end('{"error":"backend failure"}');
    }
    // A few slow answers (0.5% of all requests: the p99 windows still show the sidecar).
    const delay = roll < 0.24 ? 300 : 0;
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    }, delay);
  });
}

/**
 * The well-behaved backend: answers a small fixed body (it does not echo what it saw, so
 * its credentials never come back to clients) and counts what must never reach it: a
 * spoofed identity, a request without its configured credential.
 */
function checkingBackend(violations: string[]): http.Server {
  return http.createServer((req, res) => {
    if (req.headers['argocd-username'] === 'mallory') violations.push('spoofed Argocd-Username');
    if (req.headers.cookie !== undefined) violations.push('a Cookie header reached the backend');
    const path = req.url ?? '';
    if (path.startsWith('/api/') && req.headers.authorization !== BACKEND_TOKEN) {
      violations.push('the configured Authorization header was missing');
    }
    if (path.startsWith('/remote/') && req.headers['x-agent-secret'] !== AGENT_SECRET) {
      violations.push("the agent's secret header was missing");
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
}

interface Scenario {
  name: string;
  path: string;
  user?: string;
  token?: string;
  method?: string;
  body?: Buffer;
  expected: string[];
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const progress = options.progress ?? (() => undefined);
  const concurrency = options.concurrency ?? 8;
  const cleanups: Array<() => unknown> = [];
  const responses: string[] = [];
  const faults: Record<string, number> = {};
  const fault = (name: string) => (faults[name] = (faults[name] ?? 0) + 1);
  const stopHandlingSignals = options.exitOnSignals
    ? stopOnSignals(cleanups, progress)
    : () => undefined;
  try {
    const violations: string[] = [];
    const backend = checkingBackend(violations);
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      backend.closeAllConnections();
      backend.close();
    });
    const echo = {
      port: (backend.address() as AddressInfo).port,
      url: `http://127.0.0.1:${(backend.address() as AddressInfo).port}`,
    };
    const flaky = flakyBackend();
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      flaky.closeAllConnections();
      flaky.close();
    });
    const flakyPort = (flaky.address() as AddressInfo).port;
    const argocd = new FakeArgoCD();
    await argocd.start();
    cleanups.push(() => argocd.stop());
    argocd.setApplications([guestbook(['admin', 'alice', 'bob'])]);
    const backendDefaults = 'idleConnectionTimeout: 2s\nresponseTimeout: 2s\n';
    const policy = (extra: string) =>
      `p, admin, extensions, invoke, *, allow\np, alice, extensions, invoke, *, allow\n${extra}`;
    const cm = {
      'extension.config.steady': `${backendDefaults}services:\n- url: ${echo.url}/api\n  headers:\n  - name: Authorization\n    value: $backend.token\n`,
      'extension.config.flaky': `${backendDefaults}services:\n- url: http://127.0.0.1:${flakyPort}\n`,
      'extension.config.remote': `${backendDefaults}services:\n- url: ${echo.url}/remote\n  delegate: soak\n`,
      'extension.config.limited': `${backendDefaults}rateLimit: {perUser: {requestsPerSecond: 20, burst: 20}}\nservices:\n- url: ${echo.url}\n`,
    };
    const secret = {
      'server.secretkey': TEST_SERVER_SECRET,
      'backend.token': BACKEND_TOKEN,
      'delegate.soak.token': DELEGATE_TOKEN,
    };
    const config = new ArgoCDConfig({ cm, rbac: { 'policy.csv': policy('') }, secret });
    cleanups.push(() => config.remove());
    const sidecar = new SidecarProcess(
      [...config.flags, ...argocd.sidecarFlags(), '--delegate-ping-interval', '1s'],
      {},
      // Test instrumentation: a full garbage collection on demand (see settle below).
      { nodeArgs: GC_ON_SIGNAL },
    );
    await sidecar.start();
    cleanups.push(() => sidecar.stop());
    const dir = mkdtempSync(join(tmpdir(), 'soak-agent-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'token'), DELEGATE_TOKEN);
    // The secret directory holds headers only: any file in it is sent to backends.
    mkdirSync(join(dir, 'headers'));
    writeFileSync(join(dir, 'headers', 'X-Agent-Secret'), AGENT_SECRET);
    const agents: SidecarProcess[] = [];
    const startAgent = async () => {
      const agent = new SidecarProcess(
        [
          '--server',
          sidecar.url,
          '--name',
          'soak',
          '--token-file',
          join(dir, 'token'),
          '--allow',
          `127.0.0.1:${echo.port}`,
          '--secret-dir',
          join(dir, 'headers'),
          '--reconnect-max',
          '1s',
        ],
        {},
        { command: 'delegate' },
      );
      agents.push(agent);
      await agent.start();
      return agent;
    };
    cleanups.push(() => Promise.all(agents.map((a) => a.stop())));
    let agent = await startAgent();

    const sessions = {
      admin: signLocalToken({ sub: 'admin:login' }),
      alice: signLocalToken({ sub: 'alice:login' }),
      bob: signLocalToken({ sub: 'bob:login' }),
    };
    const expired = signLocalToken({
      sub: 'admin:login',
      exp: Math.floor(Date.now() / 1000) - 60,
    });
    const forged = signLocalToken({ sub: 'admin:login' }, { secret: 'not-the-server-secret-key' });
    const secrets = [
      TEST_SERVER_SECRET,
      BACKEND_TOKEN,
      DELEGATE_TOKEN,
      AGENT_SECRET,
      ...Object.values(sessions),
      expired,
      forged,
    ];
    const scenarios: Scenario[] = [
      { name: 'steady', path: '/extensions/steady/items', user: 'admin', expected: ['200'] },
      {
        name: 'upload',
        path: '/extensions/steady/upload',
        user: 'admin',
        method: 'POST',
        body: Buffer.alloc(64 * 1024, 1),
        expected: ['200'],
      },
      {
        name: 'flaky',
        path: '/extensions/flaky/x',
        user: 'admin',
        expected: ['200', '500', '502', 'cut'],
      },
      // 503 while the agent is down, 502 if it dies under a request.
      {
        name: 'remote',
        path: '/extensions/remote/x',
        user: 'admin',
        expected: ['200', '502', '503'],
      },
      { name: 'limited', path: '/extensions/limited/x', user: 'alice', expected: ['200', '429'] },
      { name: 'expired', path: '/extensions/steady/x', token: expired, expected: ['401'] },
      { name: 'forged', path: '/extensions/steady/x', token: forged, expected: ['401'] },
      // bob may read the application but not invoke extensions.
      { name: 'denied', path: '/extensions/steady/x', user: 'bob', expected: ['403'] },
    ];
    const clientAgent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const send = (scenario: Scenario): Promise<string> =>
      new Promise((resolve) => {
        const token =
          scenario.token ?? sessions[(scenario.user ?? 'admin') as keyof typeof sessions];
        const req = http.request(
          `${sidecar.url}${scenario.path}`,
          {
            method: scenario.method ?? 'GET',
            agent: clientAgent,
            headers: {
              cookie: `argocd.token=${token}`,
              'Argocd-Application-Name': 'argocd:guestbook',
              'Argocd-Project-Name': 'default',
              // Spoofing attempts ride along; the backend must never see them (checked below).
              'Argocd-Username': 'mallory',
            },
            timeout: 10_000,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = JSON.stringify(res.headers) + Buffer.concat(chunks).toString('latin1');
              // Keep a sample of responses for the leak search (every non-200, some 200s).
              if (res.statusCode !== 200 || Math.random() < 0.05) responses.push(text);
              resolve(res.complete ? String(res.statusCode) : 'cut');
            });
            res.on('aborted', () => resolve('cut'));
            res.on('error', () => resolve('cut'));
          },
        );
        req.on('timeout', () => req.destroy(new Error('client timeout')));
        req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        req.end(scenario.body);
      });

    const pid = sidecar.pid;
    const sockets = () =>
      countSockets(pid, new URL(sidecar.url).port, [echo.port, flakyPort], argocd);
    const outcomes: Record<string, number> = {};
    const unexpected = new Set<string>();
    const samples: Array<{ at: number; ms: number }> = [];
    /** Every client sends scenarios in turn until `until`; outcomes recorded when asked. */
    const load = (until: number, record: boolean, onWindow?: () => void) =>
      Promise.all(
        Array.from({ length: concurrency }, async (_, c) => {
          for (let i = c; Date.now() < until; i++) {
            const scenario = scenarios[i % scenarios.length];
            const t0 = performance.now();
            const outcome = await send(scenario);
            if (!record) continue;
            samples.push({ at: Date.now(), ms: performance.now() - t0 });
            outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
            if (!scenario.expected.includes(outcome)) {
              unexpected.add(`${scenario.name}: ${outcome}`);
            }
            onWindow?.();
          }
        }),
      );
    // Memory and sockets are compared in the same state before and after: right after a
    // stretch of the same load, once clients have gone and the process has idled (idle
    // connections closed, V8 free to collect). A leak shows as growth between the two.
    const settle = async () => {
      clientAgent.destroy();
      await new Promise((r) => setTimeout(r, 8000));
      const counted = sockets();
      // Garbage waiting for collection is not a leak, and how much of it there is at a given
      // moment varies by tens of MiB (an old generation that fills with promoted garbage
      // between major collections): collect it all first, then measure.
      const gc = await sidecar.collectGarbage();
      // RSS read a second later, from outside: V8 unmaps freed pages in the background, so
      // the process's own reading right after the collection still counts some of them.
      await new Promise((r) => setTimeout(r, 1000));
      return { rss: rssMiB([pid]), heap: gc.heapUsedBytes / MIB, sockets: counted };
    };
    // SOAK_FAULTS=none|reloads|agent|all (default all): to tell which fault a problem follows.
    const faultsOn = process.env.SOAK_FAULTS ?? 'all';
    const reloadsOn = faultsOn === 'all' || faultsOn === 'reloads';
    const agentFaultsOn = faultsOn === 'all' || faultsOn === 'agent';
    const policyReload = (n: number) => {
      config.rbac.update({ 'policy.csv': policy(`p, carol, extensions, invoke, r${n}, allow`) });
    };
    /** A broken extension.config: the previous extensions keep serving (as Argo CD's registry). */
    const invalidConfig = () => {
      config.cm.update({ ...cm, 'extension.config.broken': 'services: [' });
      setTimeout(() => config.cm.update(cm), 1500);
    };
    let restarting: Promise<void> | undefined;
    const restartAgent = () => {
      agent.signal('SIGKILL');
      restarting = agent
        .waitForExit()
        .then(() => new Promise((r) => setTimeout(r, 2000)))
        .then(startAgent)
        .then((a) => {
          agent = a;
          restarting = undefined;
        });
    };

    // The warm-up goes through each fault once, so the starting point has paid for
    // whatever they allocate for good (a new configuration generation, a new tunnel).
    const warmUpMs = Math.min(10_000, (options.durationS * 1000) / 5);
    const warmUp = load(Date.now() + warmUpMs, false);
    if (reloadsOn) {
      policyReload(0);
      setTimeout(invalidConfig, Math.min(2000, warmUpMs / 4));
    }
    if (agentFaultsOn) restartAgent();
    await warmUp;
    while (restarting) await restarting;
    const baseline = await settle();
    const before = baseline.sockets;

    const started = Date.now();
    const deadline = started + options.durationS * 1000;
    // Faults on a schedule: agent kill/restart every 20 s, reloads every 7 s.
    const timers: NodeJS.Timeout[] = [];
    let reloads = 0;
    if (reloadsOn)
      timers.push(
        setInterval(() => {
          reloads++;
          if (reloads % 3 === 0) {
            invalidConfig();
            fault('invalid-config');
          } else {
            policyReload(reloads);
            fault('policy-reload');
          }
        }, 7_000),
      );
    if (agentFaultsOn)
      timers.push(
        setInterval(() => {
          if (restarting) return;
          restartAgent();
          fault('agent-killed');
        }, 20_000),
      );
    let windowEnd = started + WINDOW_S * 1000;
    // The sidecar's RSS every second under load, shown per window. A sawtooth: ~70 MiB of
    // code and native memory, a young generation of fixed size (node-flags.ts), and an old
    // generation that fills with promoted garbage and drops back at each major collection
    // (measured: old space 22 -> 54 -> 23 MiB, so RSS swings by ±15 % from one reading to
    // the next) — which is why the leak check measures after a full collection instead.
    const rssSamples: Array<{ at: number; mib: number }> = [];
    const rssTimer = setInterval(
      () => rssSamples.push({ at: Date.now(), mib: rssMiB([pid]) }),
      1000,
    );
    await load(deadline, true, () => {
      if (Date.now() > windowEnd) {
        windowEnd += WINDOW_S * 1000;
        const last = rssSamples[rssSamples.length - 1];
        progress(
          `soak: ${Math.round((Date.now() - started) / 1000)} s, ${samples.length} requests` +
            (last ? `, sidecar RSS ${last.mib.toFixed(1)} MiB` : ''),
        );
      }
    });
    clearInterval(rssTimer);
    for (const t of timers) clearInterval(t);
    while (restarting) await restarting;
    const end = await settle();
    const after = end.sockets;

    const windows: SoakReport['windows'] = [];
    for (let t = started, i = 0; t < deadline; t += WINDOW_S * 1000, i++) {
      const ms = samples.filter((s) => s.at >= t && s.at < t + WINDOW_S * 1000).map((s) => s.ms);
      windows.push({
        startS: Math.round((t - started) / 1000),
        requests: ms.length,
        p99Ms: p99(ms),
        rssMiB: median(
          rssSamples.filter((r) => r.at >= t && r.at < t + WINDOW_S * 1000).map((r) => r.mib),
        ),
      });
    }
    // Every secret, searched in every log line and every kept response.
    const haystack = [sidecar.output(), ...agents.map((a) => a.output()), ...responses].join('\n');
    const leaks = secrets.filter((s) => haystack.includes(s)).map((s) => `${s.slice(0, 6)}…`);
    for (const v of new Set(violations)) leaks.push(`backend saw: ${v}`);
    return {
      durationS: options.durationS,
      requests: samples.length,
      outcomes,
      unexpected: [...unexpected],
      windows,
      rssStartMiB: baseline.rss,
      rssEndMiB: end.rss,
      heapLiveStartMiB: baseline.heap,
      heapLiveEndMiB: end.heap,
      sockets: { before, after },
      leaks,
      faults,
    };
  } finally {
    stopHandlingSignals();
    await runCleanups(cleanups);
  }
}

function percent(from: number, to: number): string {
  const p = ((to - from) / from) * 100;
  return `${p >= 0 ? '+' : ''}${p.toFixed(1)}%`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function p99(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
}

/** The sidecar's TCP connections, by kind, from /proc (Linux). */
function countSockets(
  pid: number,
  listenPort: string,
  backendPorts: number[],
  argocd: FakeArgoCD,
): SocketCount {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  const argocdPort = Number(new URL(argocd.url).port);
  const count: SocketCount = { inbound: 0, backends: 0, argocd: 0 };
  const tunnels: number[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || !inodes.has(cols[9]) || cols[3] !== '01') continue; // ESTABLISHED
      const local = parseInt(cols[1].split(':')[1], 16);
      const remote = parseInt(cols[2].split(':')[1], 16);
      if (String(local) === listenPort) tunnels.push(remote);
      else if (backendPorts.includes(remote)) count.backends++;
      else if (remote === argocdPort) count.argocd++;
    }
  }
  // Inbound on the extension port, minus the delegate tunnel (one agent, one connection).
  count.inbound = Math.max(0, tunnels.length - 1);
  return count;
}

async function main(): Promise<void> {
  const durationS = Number(process.env.SOAK_SECONDS ?? 300);
  const report = await runSoak({
    durationS,
    progress: (line) => process.stderr.write(line + '\n'),
    exitOnSignals: true,
  });
  process.stdout.write(formatReport(report));
  const problems = soakProblems(report);
  if (problems.length > 0) {
    process.stderr.write(`\nsoak: problems:\n  - ${problems.join('\n  - ')}\n`);
    process.exitCode = 1;
  } else process.stderr.write('\nsoak: nothing leaked, nothing unexpected\n');
}

/** Everything the soak must not show; the CLI and the test use the same list. */
export function soakProblems(report: SoakReport): string[] {
  const problems: string[] = [];
  if (report.unexpected.length > 0)
    problems.push(`unexpected outcomes: ${report.unexpected.join(', ')}`);
  if (report.leaks.length > 0) problems.push(`leaks: ${report.leaks.join(', ')}`);
  const growth = (report.rssEndMiB - report.rssStartMiB) / report.rssStartMiB;
  if (!(growth < 0.1)) {
    problems.push(
      `RSS grew ${(growth * 100).toFixed(1)}% (${report.rssStartMiB.toFixed(1)} -> ${report.rssEndMiB.toFixed(1)} MiB; budget < 10%)`,
    );
  }
  const { before, after } = report.sockets;
  if (after.inbound > 0) problems.push(`${after.inbound} client connections left open`);
  if (after.backends > 0)
    problems.push(`${after.backends} backend connections left open after their idle timeout`);
  if (after.argocd > Math.max(before.argocd, 16))
    problems.push(`Argo CD API connections grew: ${before.argocd} -> ${after.argocd}`);
  if (report.requests === 0) problems.push('no request completed');
  return problems;
}

export function formatReport(r: SoakReport): string {
  const lines = [
    `Soak: ${r.durationS} s, ${r.requests} requests`,
    `outcomes: ${Object.entries(r.outcomes)
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
    `faults injected: ${Object.entries(r.faults)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
    `p99 per ${WINDOW_S} s window (ms): ${r.windows.map((w) => w.p99Ms.toFixed(0)).join(' ')}`,
    `sidecar RSS per window, under load (MiB): ${r.windows.map((w) => w.rssMiB.toFixed(0)).join(' ')}`,
    `sidecar after a warm-up, 8 s idle and a full GC: RSS ${r.rssStartMiB.toFixed(1)} MiB, heap alive ${r.heapLiveStartMiB.toFixed(1)} MiB`,
    `sidecar after the run, 8 s idle and a full GC:     RSS ${r.rssEndMiB.toFixed(1)} MiB (${percent(r.rssStartMiB, r.rssEndMiB)}), heap alive ${r.heapLiveEndMiB.toFixed(1)} MiB (${percent(r.heapLiveStartMiB, r.heapLiveEndMiB)})`,
    `sockets (inbound/backends/argocd): before ${r.sockets.before.inbound}/${r.sockets.before.backends}/${r.sockets.before.argocd}, after ${r.sockets.after.inbound}/${r.sockets.after.backends}/${r.sockets.after.argocd}`,
    `unexpected outcomes: ${r.unexpected.length}; secrets found in logs or responses: ${r.leaks.length}`,
  ];
  return lines.join('\n') + '\n';
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`soak: ${err.message}\n`);
    process.exit(1);
  });
}
