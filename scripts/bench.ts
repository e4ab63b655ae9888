/**
 * `npm run bench`: every contender on loopback, measured in one run on this machine, with
 * the budgets (docs/performance.md, "The budgets") checked on ratios from that same run.
 *
 * 1. Throughput: backend direct, nginx (Debian `nginx-light`, when installed), a plain
 *    Node proxy and the sidecar with every check on (cookie token, RBAC, application
 *    check, header rewrite); 1 KiB and 256 KiB responses; 32 and 256 connections. In the
 *    budgeted group (1 KiB, 32 connections) also a bare proxy on undici's Pool, the
 *    sidecar's client with no checks, no log and no metrics: the least a Node proxy built
 *    like the sidecar can cost on this machine, so that a missed ratio to nginx can be told
 *    apart from a machine on which no Node proxy reaches it.
 * 2. Policy size end to end: the sidecar with a 2-line and a 10,000-line policy, runs
 *    alternated, medians compared.
 * 3. Streaming: 1 GiB up and down through a sidecar that has served nothing yet (the
 *    worst case for memory), then through the loaded one; throughput and memory growth.
 * 4. Reload: a 100,000-line policy swapped in under a steady stream of requests.
 * 5. RBAC cost per policy size (10 to 100,000 lines), in this process.
 * 6. New sessions arriving together (bench-lib/sessions.ts): Argo CD and identity-provider
 *    calls for bursts of first requests, and their p95 against the Argo CD stand-in's own;
 *    run first, on a sidecar of its own. BENCH_ONLY=sessions runs this section alone.
 * 7. The Anomalies tab (bench-lib/tab.ts): opening a Deployment's tab through the sidecar
 *    and the anomaly backend, against a real Prometheus (Debian `prometheus`) on 22 days of
 *    backfilled data, for the 1h, 6h, 24h and 7d ranges: first opens (a fresh backend) and
 *    second ones within a minute; p50/p95, Prometheus queries and samples per open against
 *    the samples the chart and the detector need, the backend's CPU per open. Run after the
 *    sessions, on a sidecar of its own; skipped with a note when Prometheus is not
 *    installed (a failure under CI=true). BENCH_ONLY=tab runs this section alone.
 *
 * Exit code 1 when a budget is missed or any request failed, with the reasons.
 * Environment: BENCH_DURATION (seconds per load run, default 8), BENCH_WARMUP (seconds of
 * discarded load per contender and row group, default 10), BENCH_STREAM_BYTES (default
 * 1 GiB), BENCH_QUICK=1 (one connection count and size, one run each, 3 cold samples and 3
 * warm opens in the tab section: a smoke run), BENCH_ONLY (`sessions` or `tab`: that section
 * alone), BENCH_TAB_COLD (cold samples per range in the tab section: fresh backends, default
 * 7), BENCH_TAB_WARM (warm opens after each cold one, default 5).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import http from 'http';
import { tmpdir } from 'os';
import { join } from 'path';
import { signLocalToken } from '../test/helpers/local-tokens';
import { SidecarProcess } from '../test/helpers/sidecar-process';
import { getStatus, hasWrk, load, LoadResult } from './bench-lib/load';
import { findNginx, NginxProxy } from './bench-lib/nginx';
import { generatePolicy, measurePolicy, PolicyCost } from './bench-lib/policy';
import { runCleanups, stopOnSignals } from './bench-lib/interrupt';
import { PortProcess, startScript } from './bench-lib/processes';
import { cpuSeconds, peakRssMiB, resetPeakRss, rssMiB } from '../test/helpers/processes';
import { streamThrough, StreamResult } from './bench-lib/streaming';
import { benchNewSessions } from './bench-lib/sessions';
import { benchAnomaliesTab } from './bench-lib/tab';
import { fmt, median, ratio, table } from './bench-lib/report';
import {
  APP_HEADERS,
  DELEGATE_TOKEN,
  sidecarConfig,
  startBenchArgoCD,
  TWO_LINE_POLICY,
} from './bench-lib/sidecar-setup';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 8);
const STREAM_BYTES = Number(process.env.BENCH_STREAM_BYTES ?? 1024 ** 3);
const QUICK = process.env.BENCH_QUICK === '1';
/**
 * A discarded run before a contender's first measured one in each row group, the same for
 * every contender. A fresh Node process needs several seconds of load before V8 has
 * compiled its hot path for good: the sidecar's first 2-second runs reach 75-85% of its
 * later rate (the plain Node proxy's 70-90%), and both settle after 6-8 s. A long-running
 * proxy is what is being measured, not its first seconds.
 */
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 10);
const SIZES = QUICK ? [1024] : [1024, 256 * 1024];
const CONNECTIONS = QUICK ? [32] : [32, 256];
const POLICY_SIZES = [10, 1_000, 10_000, 100_000];
/**
 * Measured runs per contender where a budget is checked (alternated between contenders,
 * medians compared): a shared VM's throughput drifts by 10-20% over minutes, and with one
 * run per contender that drift would decide a ratio. Five, not three: a median of three
 * still falls whenever two of a contender's runs are slow.
 */
const ROUNDS = QUICK ? 1 : 5;

/**
 * Fastest over slowest run of one contender above which the machine is called noisy (on a
 * quiet machine the sidecar's five runs stay within ~1.1x of each other).
 */
const NOISY_SPREAD = 1.25;

/** The reference contender of the budgeted group (see 1. above). */
const BARE = 'bare undici proxy (no checks)';

/** Budgets (ratios within this run). */
const BUDGET = {
  /**
   * Requests/s against the plain Node proxy of the same run: the checks may cost 15 % of a
   * Node proxy's throughput. (Against nginx the ratio is reported, not judged: on a noisy
   * machine it moved between 0.23x and 0.41x from one run to the next.)
   */
  rpsVsPlain: 0.85,
  /** A plain Node proxy's p99 is itself ~3x nginx's, so the budget is 1.5x plain… */
  p99VsPlain: 1.5,
  /** …and 3x nginx the stretch goal (reported, not failed on). */
  p99VsNginxStretch: 3,
  /** Cost per request (1 / req/s) with a 10,000-line policy against a 2-line one. */
  policy10kCostVs2: 1.05,
  reloadSeconds: 1,
  /** Longest single request while a 100,000-line policy is loaded: "does not block". */
  reloadStallMs: 50,
  streamGrowthMiB: 64,
  idleRssMiB: 80,
  /** Requests/s through a delegate agent against the same sidecar going direct. */
  delegateVsDirect: 0.6,
};

/** A throughput contender: name, URL, request headers, and the pids whose CPU it uses. */
type Contender = [string, string, Record<string, string>, () => number[]];

/** One contender in one row group: medians of its measured runs. */
interface Row extends LoadResult {
  contender: string;
  size: number;
  connections: number;
  peakRssMiB: number;
  /** Requests/s of each measured run, in order. */
  runs: number[];
  /**
   * CPU time of the contender's own processes per request (median of the runs), in µs: the
   * cost of proxying, which a noisy machine disturbs far less than requests/s.
   */
  cpuUs: number;
}

/** A pause between load runs: the previous run's connections close, cut responses drain. */
const settle = () => new Promise((r) => setTimeout(r, 1500));

/** The discarded load every contender gets before it is measured (see WARMUP_S). */
async function warmUp(url: string, headers: Record<string, string>, connections = 32) {
  await load({ url, headers, connections, durationS: WARMUP_S });
  await settle();
}
const sizeLabel = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MiB` : `${bytes / 1024} KiB`;

/** Sequential keep-alive requests, each timed, until stop() (the reload probe). */
class Probe {
  readonly samples: Array<{ at: number; ms: number; status: number }> = [];
  private running = true;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private done: Promise<void>;

  constructor(url: string, headers: Record<string, string>) {
    this.done = (async () => {
      while (this.running) {
        const start = performance.now();
        const status = await getStatus(url, headers, this.agent);
        this.samples.push({ at: start, ms: performance.now() - start, status });
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
    this.agent.destroy();
  }
}

async function main(): Promise<void> {
  const failures: string[] = [];
  const notes: string[] = [];
  /** The hot path's budget lines: what, measured, limit, met. */
  const hotPath: Array<[string, string, string, boolean]> = [];
  const backends = new Map<number, PortProcess>();
  const plains = new Map<number, PortProcess>();
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  const out = (text: string) => process.stdout.write(text + '\n');
  const stopHandlingSignals = stopOnSignals(cleanups, (line) =>
    process.stderr.write(`\nbench: ${line}\n`),
  );
  try {
    const only = process.env.BENCH_ONLY;
    if (only !== undefined && only !== '' && only !== 'sessions' && only !== 'tab') {
      throw new Error(`BENCH_ONLY must be sessions or tab, got ${JSON.stringify(only)}`);
    }
    // 6. New sessions (first: it needs a sidecar that has seen no token)
    if (only !== 'tab') {
      const sessions = await benchNewSessions();
      out(sessions.text);
      failures.push(...sessions.failures);
      if (only === 'sessions') {
        reportFailures(failures);
        return;
      }
    }

    // 7. The Anomalies tab (its own Prometheus, backend and sidecar)
    const tab = await benchAnomaliesTab(cleanups);
    out(tab.text);
    failures.push(...tab.failures);
    if (only === 'tab') {
      reportFailures(failures);
      return;
    }

    for (const size of [1024, 256 * 1024]) {
      const backend = await startScript('backend.js', [String(size)]);
      cleanups.push(() => backend.child.kill('SIGTERM'));
      backends.set(size, backend);
      const plain = await startScript('plain-proxy.js', [String(backend.port)]);
      cleanups.push(() => plain.child.kill('SIGTERM'));
      plains.set(size, plain);
    }
    const bare = await startScript('undici-proxy.js', [String(backends.get(1024)!.port)]);
    cleanups.push(() => bare.child.kill('SIGTERM'));
    const nginxBinary = findNginx();
    let nginx: NginxProxy | undefined;
    if (nginxBinary) {
      nginx = await new NginxProxy(nginxBinary, [
        backends.get(1024)!.port,
        backends.get(256 * 1024)!.port,
      ]).start();
      cleanups.push(() => nginx!.stop());
    } else {
      notes.push('nginx is not installed (Debian: nginx-light): its rows and budgets are skipped');
    }

    const argocd = await startBenchArgoCD();
    cleanups.push(() => argocd.stop());
    const startSidecar = async (policyCsv: string) => {
      const config = sidecarConfig(backends, policyCsv);
      cleanups.push(() => config.remove());
      // Default log level: one JSON line per request, as in production.
      const sidecar = new SidecarProcess(
        [...config.flags, ...argocd.sidecarFlags()],
        {},
        { discardOutputAfterStart: true },
      );
      await sidecar.start();
      cleanups.push(() => sidecar.stop());
      return { sidecar, config };
    };
    const small = await startSidecar(TWO_LINE_POLICY);
    await new Promise((r) => setTimeout(r, 2000));
    const idleRss = rssMiB([small.sidecar.pid]);
    const token = signLocalToken({ sub: 'alice:login' });
    const sidecarHeaders = { Cookie: `argocd.token=${token}`, ...APP_HEADERS };

    process.stderr.write(
      `bench: ${hasWrk() ? 'wrk' : 'autocannon'}, ${DURATION_S} s per run` +
        `${QUICK ? ' (quick)' : ''}; node ${process.version}\n`,
    );

    // 1. Throughput. In each row group every contender gets the same discarded warm-up,
    // then the contenders take turns: ROUNDS measured runs each in the headline group (the
    // budgets'), one elsewhere. Medians of the runs are reported.
    const rows: Row[] = [];
    for (const size of SIZES) {
      for (const connections of CONNECTIONS) {
        const contenders: Contender[] = [
          [
            'backend direct',
            `http://127.0.0.1:${backends.get(size)!.port}/`,
            {},
            () => [backends.get(size)!.child.pid!],
          ],
          ...(nginx
            ? [
                [
                  'nginx',
                  `http://127.0.0.1:${nginx.ports[size === 1024 ? 0 : 1]}/`,
                  {},
                  () => nginx!.pids(),
                ] as Contender,
              ]
            : []),
          [
            'plain Node proxy',
            `http://127.0.0.1:${plains.get(size)!.port}/`,
            {},
            () => [plains.get(size)!.child.pid!],
          ],
          ...(size === 1024 && connections === 32
            ? [[BARE, `http://127.0.0.1:${bare.port}/`, {}, () => [bare.child.pid!]] as Contender]
            : []),
          [
            'sidecar, all checks',
            `${small.sidecar.url}/extensions/${size === 1024 ? 'bench' : 'bench256'}/`,
            sidecarHeaders,
            () => [small.sidecar.pid],
          ],
        ];
        const group = contenders.map(([contender, url, headers, pids]) => ({
          contender,
          url,
          headers,
          pids,
          runs: [] as LoadResult[],
          cpuUs: [] as number[],
          peakRssMiB: 0,
        }));
        for (const c of group) {
          process.stderr.write(
            `  warm-up: ${c.contender}, ${sizeLabel(size)}, ${connections} connections\n`,
          );
          resetPeakRss(c.pids());
          await warmUp(c.url, c.headers, connections);
        }
        const rounds = size === 1024 && connections === 32 ? ROUNDS : 1;
        for (let round = 0; round < rounds; round++) {
          for (const c of group) {
            process.stderr.write(
              `  ${c.contender}, ${sizeLabel(size)}, ${connections} connections, run ${round + 1}/${rounds}\n`,
            );
            const cpuBefore = cpuSeconds(c.pids());
            const result = await load({
              url: c.url,
              headers: c.headers,
              connections,
              durationS: DURATION_S,
            });
            c.runs.push(result);
            c.cpuUs.push(((cpuSeconds(c.pids()) - cpuBefore) * 1e6) / (result.rps * DURATION_S));
            c.peakRssMiB = peakRssMiB(c.pids());
            if (result.errors > 0 || !(result.rps > 0)) {
              failures.push(
                `${c.contender} (${sizeLabel(size)}, ${connections} conns): ${result.errors} errors`,
              );
            }
            await settle();
          }
        }
        for (const c of group) {
          rows.push({
            contender: c.contender,
            size,
            connections,
            peakRssMiB: c.peakRssMiB,
            runs: c.runs.map((r) => r.rps),
            cpuUs: median(c.cpuUs),
            rps: median(c.runs.map((r) => r.rps)),
            p50: median(c.runs.map((r) => r.p50)),
            p99: median(c.runs.map((r) => r.p99)),
            errors: c.runs.reduce((sum, r) => sum + r.errors, 0),
          });
        }
      }
    }
    const find = (contender: string, size: number, connections: number) =>
      rows.find(
        (r) => r.contender === contender && r.size === size && r.connections === connections,
      );
    out(
      '\nThroughput (keep-alive; medians of the runs; ratios against nginx and the plain Node proxy of the same row group;\n' +
        "CPU: user + system time of the contender's own processes per request, backend direct: the backend)\n",
    );
    out(
      table(
        [
          'contender',
          'response',
          'conns',
          'req/s',
          'p50 ms',
          'p99 ms',
          'runs (req/s)',
          'peak RSS MiB',
          'CPU us/req',
          'req/s vs nginx',
          'p99 vs nginx',
          'req/s vs plain',
          'p99 vs plain',
          'errors',
        ],
        rows.map((r) => {
          const ng = find('nginx', r.size, r.connections);
          const plain = find('plain Node proxy', r.size, r.connections)!;
          return [
            r.contender,
            sizeLabel(r.size),
            String(r.connections),
            fmt(r.rps),
            fmt(r.p50, 2),
            fmt(r.p99, 2),
            r.runs.map((x) => fmt(x)).join(', '),
            r.peakRssMiB > 0 ? fmt(r.peakRssMiB) : '-',
            fmt(r.cpuUs, 1),
            ng ? ratio(r.rps, ng.rps) : '-',
            ng ? ratio(r.p99, ng.p99) : '-',
            ratio(r.rps, plain.rps),
            ratio(r.p99, plain.p99),
            String(r.errors),
          ];
        }),
      ),
    );
    const headline = find('sidecar, all checks', 1024, 32)!;
    const headlineNginx = find('nginx', 1024, 32);
    const headlinePlain = find('plain Node proxy', 1024, 32)!;
    out(
      `\nCPU per request (1 KiB, 32 connections): sidecar ${fmt(headline.cpuUs, 1)} us, ` +
        `${ratio(headline.cpuUs, headlinePlain.cpuUs)} the plain Node proxy's` +
        (headlineNginx ? `, ${ratio(headline.cpuUs, headlineNginx.cpuUs)} nginx's` : ''),
    );
    // A request/s ratio is only as steady as the machine: say so when the runs disagree.
    const spreads = [headline, headlineNginx, headlinePlain]
      .filter((r): r is Row => r !== undefined)
      .map((r) => ({ contender: r.contender, spread: Math.max(...r.runs) / Math.min(...r.runs) }))
      .sort((a, b) => b.spread - a.spread);
    if (spreads[0].spread > NOISY_SPREAD) {
      notes.push(
        `noisy machine: the runs of "${spreads[0].contender}" differ by ${spreads[0].spread.toFixed(2)}x ` +
          `(1 KiB, 32 connections); the requests/s ratios of this run are uncertain, the CPU per request less so`,
      );
    }
    const p99VsPlain = headline.p99 / headlinePlain.p99;
    if (p99VsPlain > BUDGET.p99VsPlain) {
      failures.push(
        `sidecar p99 is ${p99VsPlain.toFixed(2)}x the plain Node proxy's (budget <= ${BUDGET.p99VsPlain}x)`,
      );
    }
    const rpsVsPlain = headline.rps / headlinePlain.rps;
    hotPath.push([
      'sidecar req/s vs the plain Node proxy (1 KiB, 32 connections)',
      `${rpsVsPlain.toFixed(2)}x`,
      `>= ${BUDGET.rpsVsPlain}x`,
      rpsVsPlain >= BUDGET.rpsVsPlain,
    ]);
    hotPath.push([
      "sidecar p99 vs the plain Node proxy's",
      `${p99VsPlain.toFixed(2)}x`,
      `<= ${BUDGET.p99VsPlain}x`,
      p99VsPlain <= BUDGET.p99VsPlain,
    ]);
    if (rpsVsPlain < BUDGET.rpsVsPlain) {
      failures.push(
        `sidecar req/s is ${rpsVsPlain.toFixed(2)}x the plain Node proxy (budget >= ${BUDGET.rpsVsPlain}x; ` +
          `same run: ${BARE} ${(find(BARE, 1024, 32)!.rps / headlinePlain.rps).toFixed(2)}x)`,
      );
    }
    if (headlineNginx) {
      const rpsRatio = headline.rps / headlineNginx.rps;
      const p99Ratio = headline.p99 / headlineNginx.p99;
      notes.push(
        `against nginx (reported, not judged): sidecar ${rpsRatio.toFixed(2)}x req/s, plain Node proxy ` +
          `${(headlinePlain.rps / headlineNginx.rps).toFixed(2)}x, ${BARE} ` +
          `${(find(BARE, 1024, 32)!.rps / headlineNginx.rps).toFixed(2)}x`,
      );
      if (p99Ratio > BUDGET.p99VsNginxStretch) {
        notes.push(
          `stretch goal missed: sidecar p99 is ${p99Ratio.toFixed(2)}x nginx's (stretch <= ${BUDGET.p99VsNginxStretch}x; ` +
            `the plain Node proxy's is ${(headlinePlain.p99 / headlineNginx.p99).toFixed(2)}x)`,
        );
      }
    }

    // 2. Policy size, end to end
    const large = await startSidecar(generatePolicy(10_000));
    // The 2-line sidecar is warm from section 1; the new one gets the same warm-up first.
    process.stderr.write('  policy size, warm-up of the 10,000-line sidecar\n');
    await warmUp(`${large.sidecar.url}/extensions/bench/`, sidecarHeaders);
    const smallRuns: number[] = [];
    const largeRuns: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const [target, runs] of [
        [small.sidecar, smallRuns],
        [large.sidecar, largeRuns],
      ] as const) {
        process.stderr.write(`  policy size, round ${round + 1}\n`);
        const r = await load({
          url: `${target.url}/extensions/bench/`,
          headers: sidecarHeaders,
          connections: 32,
          durationS: DURATION_S,
        });
        if (r.errors > 0) failures.push(`policy-size run: ${r.errors} errors`);
        runs.push(r.rps);
      }
    }
    await large.sidecar.stop();
    const policyCost = median(smallRuns) / median(largeRuns);
    hotPath.push([
      'cost per request, 10,000-line policy vs 2-line',
      `${policyCost.toFixed(3)}x`,
      `<= ${BUDGET.policy10kCostVs2}x`,
      policyCost <= BUDGET.policy10kCostVs2,
    ]);
    out(
      `\nPolicy size, end to end (sidecar, 1 KiB, 32 connections, ${ROUNDS} alternated runs each)\n`,
    );
    out(
      table(
        ['policy', 'req/s (median)', 'runs', 'vs 2 lines'],
        [
          ['2 lines', fmt(median(smallRuns)), smallRuns.map((v) => fmt(v)).join(', '), '1.00x'],
          [
            '10,000 lines',
            fmt(median(largeRuns)),
            largeRuns.map((v) => fmt(v)).join(', '),
            ratio(median(largeRuns), median(smallRuns)),
          ],
        ],
      ),
    );
    if (policyCost > BUDGET.policy10kCostVs2) {
      failures.push(
        `a request costs ${policyCost.toFixed(3)}x as much with the 10,000-line policy as with the 2-line one (budget <= ${BUDGET.policy10kCostVs2}x)`,
      );
    }
    out('\nThe hot path, against references of this run\n');
    out(
      table(
        ['budget', 'measured', 'limit', ''],
        hotPath.map(([what, measured, limit, pass]) => [
          what,
          measured,
          limit,
          pass ? 'pass' : 'MISS',
        ]),
      ),
    );

    // 3. The delegate path against the direct one, same sidecar, alternated runs
    const delegateRows = await measureDelegate(small.sidecar, backends, sidecarHeaders, cleanups);
    out(
      `\nDelegate path vs direct (sidecar, 1 KiB, 32 connections, ${ROUNDS} alternated runs each; agent on loopback)\n`,
    );
    out(
      table(
        ['path', 'req/s (median)', 'p50 ms', 'p99 ms', 'runs', 'vs direct'],
        delegateRows.map((r) => [
          r.path,
          fmt(median(r.runs.map((x) => x.rps))),
          fmt(median(r.runs.map((x) => x.p50)), 2),
          fmt(median(r.runs.map((x) => x.p99)), 2),
          r.runs.map((x) => fmt(x.rps)).join(', '),
          ratio(median(r.runs.map((x) => x.rps)), median(delegateRows[0].runs.map((x) => x.rps))),
        ]),
      ),
    );
    const delegateRatio =
      median(delegateRows[1].runs.map((x) => x.rps)) /
      median(delegateRows[0].runs.map((x) => x.rps));
    if (delegateRows.some((r) => r.runs.some((x) => x.errors > 0))) {
      failures.push('delegate comparison: some requests failed');
    }
    if (!(delegateRatio >= BUDGET.delegateVsDirect)) {
      failures.push(
        `delegate path runs at ${delegateRatio.toFixed(2)}x the direct one (budget >= ${BUDGET.delegateVsDirect}x)`,
      );
    }

    // 4. Streaming: through a sidecar that has served nothing yet (the worst case: no memory
    // freed by earlier work is there for the transfer's read buffers to reuse, so every dead
    // buffer waiting for a collection adds to RSS), then through the one that carried the
    // load runs above.
    const fresh = await startSidecar(TWO_LINE_POLICY);
    const streams: Array<StreamResult & { sidecar: string }> = [];
    for (const [label, sidecar] of [
      ['fresh', fresh.sidecar],
      ['after the load runs', small.sidecar],
    ] as const) {
      for (const direction of ['download', 'upload'] as const) {
        process.stderr.write(`  streaming ${sizeLabel(STREAM_BYTES)} ${direction} (${label})\n`);
        const result = await streamThrough(
          direction,
          `${sidecar.url}/extensions/stream`,
          sidecarHeaders,
          STREAM_BYTES,
          sidecar.pid,
        );
        streams.push({ ...result, sidecar: label });
        const what = `streaming ${direction} (${label} sidecar)`;
        if (!result.ok) failures.push(`${what}: ${result.detail}`);
        if (!(result.rssGrowthMiB < BUDGET.streamGrowthMiB)) {
          failures.push(
            `${what}: RSS grew ${fmt(result.rssGrowthMiB, 1)} MiB (budget < ${BUDGET.streamGrowthMiB})`,
          );
        }
      }
      if (sidecar === fresh.sidecar) await fresh.sidecar.stop();
    }
    out(`\nStreaming through the sidecar (Node ${process.versions.node})\n`);
    out(
      table(
        ['sidecar', 'direction', 'bytes', 'seconds', 'MiB/s', 'RSS growth MiB', 'complete'],
        streams.map((s) => [
          s.sidecar,
          s.direction,
          sizeLabel(s.bytes),
          fmt(s.seconds, 2),
          fmt(s.mibPerSecond),
          fmt(s.rssGrowthMiB, 1),
          s.ok ? 'yes' : `no: ${s.detail}`,
        ]),
      ),
    );

    // 5. Reload of a 100,000-line policy under requests
    const url = `${small.sidecar.url}/extensions/bench/`;
    // Generated before the probe starts: this process must not stall the probe itself.
    const hugePolicy = generatePolicy(100_000) + '\np, dave, extensions, invoke, bench, allow';
    const probe = new Probe(url, sidecarHeaders);
    await new Promise((r) => setTimeout(r, 2000));
    const swappedAt = performance.now();
    small.config.rbac.update({ 'policy.csv': hugePolicy });
    const daveHeaders = {
      Cookie: `argocd.token=${signLocalToken({ sub: 'dave:login' })}`,
      ...APP_HEADERS,
    };
    let appliedAt = NaN;
    while (performance.now() - swappedAt < 10_000) {
      if ((await getStatus(url, daveHeaders)) === 200) {
        appliedAt = performance.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 500));
    await probe.stop();
    const before = probe.samples.filter((s) => s.at < swappedAt);
    const during = probe.samples.filter((s) => s.at >= swappedAt);
    const maxMs = (samples: typeof before) => samples.reduce((m, s) => Math.max(m, s.ms), 0);
    const probeErrors = probe.samples.filter((s) => s.status !== 200).length;
    const reloadS = (appliedAt - swappedAt) / 1000;
    out(
      '\nReload of a 100,000-line policy while requests flow (one client, sequential requests)\n',
    );
    out(
      table(
        ['phase', 'requests', 'longest ms', 'non-200'],
        [
          [
            'before the change',
            String(before.length),
            fmt(maxMs(before), 1),
            String(before.filter((s) => s.status !== 200).length),
          ],
          [
            'change until applied + 0.5 s',
            String(during.length),
            fmt(maxMs(during), 1),
            String(during.filter((s) => s.status !== 200).length),
          ],
        ],
      ),
    );
    out(
      `change applied (a user granted only by the new policy gets 200) after ${fmt(reloadS, 2)} s, seen through the directory's inotify watch (polling every 0.5 s is the fallback)`,
    );
    if (!(reloadS < BUDGET.reloadSeconds))
      failures.push(
        `100,000-line reload took ${fmt(reloadS, 2)} s (budget < ${BUDGET.reloadSeconds} s)`,
      );
    if (maxMs(during) > BUDGET.reloadStallMs) {
      failures.push(
        `a request took ${fmt(maxMs(during), 1)} ms during the reload (budget <= ${BUDGET.reloadStallMs} ms; ` +
          `longest before the change: ${fmt(maxMs(before), 1)} ms)`,
      );
    }
    if (probeErrors > 0) failures.push(`${probeErrors} probe requests failed around the reload`);

    // 6. RBAC cost by policy size (in this process)
    const costs: PolicyCost[] = [];
    for (const lines of POLICY_SIZES) costs.push(await measurePolicy(lines));
    out(
      '\nRBAC cost by policy size (this process; casbin = the naive walk of every line, for scale)\n',
    );
    out(
      table(
        [
          'policy lines',
          'parse ms',
          'index ms',
          'decision us (uncached)',
          'decision us (cached)',
          'casbin load ms',
          'casbin decision ms',
        ],
        costs.map((c) => [
          c.lines.toLocaleString('en-US'),
          fmt(c.parseMs, 1),
          fmt(c.indexMs, 1),
          fmt(c.uncachedUs, 2),
          fmt(c.cachedUs, 3),
          fmt(c.casbinLoadMs, 1),
          fmt(c.casbinDecisionMs, 3),
        ]),
      ),
    );

    // Memory and the rest
    out(`\nsidecar idle RSS after start: ${fmt(idleRss, 1)} MiB (budget < ${BUDGET.idleRssMiB})`);
    if (!(idleRss < BUDGET.idleRssMiB))
      failures.push(`idle RSS ${fmt(idleRss, 1)} MiB (budget < ${BUDGET.idleRssMiB})`);
    for (const note of notes) out(`note: ${note}`);
  } finally {
    stopHandlingSignals();
    await runCleanups(cleanups);
  }
  reportFailures(failures);
}

/** The budgets missed (exit code 1), or that every one was met. */
function reportFailures(failures: string[]): void {
  if (failures.length > 0) {
    process.stderr.write(`\nbench: budgets missed or errors:\n  - ${failures.join('\n  - ')}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write('\nbench: every budget met\n');
  }
}

/**
 * Starts a delegate agent for the `viadelegate` extension on `sidecar`, then alternates
 * load runs on the direct extension (`bench`) and the delegated one (same backend).
 */
async function measureDelegate(
  sidecar: SidecarProcess,
  backends: Map<number, PortProcess>,
  headers: Record<string, string>,
  cleanups: Array<() => Promise<unknown> | unknown>,
): Promise<Array<{ path: string; runs: LoadResult[] }>> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-agent-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'token'), DELEGATE_TOKEN);
  const agent = new SidecarProcess(
    [
      '--server',
      sidecar.url,
      '--name',
      'bench',
      '--token-file',
      join(dir, 'token'),
      '--allow',
      `127.0.0.1:${backends.get(1024)!.port}`,
    ],
    {},
    { command: 'delegate', discardOutputAfterStart: true },
  );
  await agent.start();
  cleanups.push(() => agent.stop());
  const rows = [
    { path: 'direct', url: `${sidecar.url}/extensions/bench/`, runs: [] as LoadResult[] },
    {
      path: 'via delegate',
      url: `${sidecar.url}/extensions/viadelegate/`,
      runs: [] as LoadResult[],
    },
  ];
  // The tunnel is up once a delegated request answers 200.
  const deadline = Date.now() + 15_000;
  while ((await getStatus(rows[1].url, headers)) !== 200) {
    if (Date.now() > deadline) throw new Error('the bench delegate agent did not connect');
    await new Promise((r) => setTimeout(r, 200));
  }
  // The same discarded warm-up for both paths (the agent has just started).
  for (const row of rows) await warmUp(row.url, headers);
  for (let round = 0; round < ROUNDS; round++) {
    for (const row of rows) {
      process.stderr.write(`  delegate comparison, ${row.path}, round ${round + 1}\n`);
      row.runs.push(await load({ url: row.url, headers, connections: 32, durationS: DURATION_S }));
    }
  }
  return rows.map(({ path, runs }) => ({ path, runs }));
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exit(1);
});
