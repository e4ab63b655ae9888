/**
 * `npm run bench:instructions`: what one request costs each proxy in user-space
 * instructions, counted by valgrind's callgrind. Unlike requests/s (npm run bench), the count
 * is the same on a quiet machine and a noisy one, so a change of a few percent shows.
 *
 * Contenders: a bare proxy on undici's Pool (the sidecar's client, nothing else), the plain
 * Node `http` proxy of `npm run bench`, and the sidecar with every check on, with a 2-line
 * and a 10,000-line policy. Every request carries the sidecar's session cookie and
 * application headers (so each contender parses the same request). Each contender gets a
 * warm-up, then windows of requests; a window's instructions / its requests is one figure.
 * Work that is not the request's own only ever adds to a window (a major garbage collection,
 * V8 still compiling: such windows cost up to 1.7x more), so the lowest window is the
 * steady cost of a request and the ratios are taken on it. System calls are not counted.
 *
 * Budgets (BUDGET below), checked on the lowest windows of this run; exit code 1 when one is
 * missed. Needs valgrind (Debian package `valgrind`); takes about 20 minutes (valgrind runs Node
 * ~50x slower). Environment: INSTR_WARMUP (requests before counting, default 20000),
 * INSTR_REQUESTS (per window, default 3000), INSTR_WINDOWS (default 5).
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { signLocalToken } from '../test/helpers/local-tokens';
import { SidecarProcess } from '../test/helpers/sidecar-process';
import { callgrindWrapper, countDuring, hasCallgrind, requests } from './bench-lib/callgrind';
import { runCleanups, stopOnSignals } from './bench-lib/interrupt';
import { generatePolicy } from './bench-lib/policy';
import { PortProcess, startScript } from './bench-lib/processes';
import { fmt, median, ratio, table } from './bench-lib/report';
import {
  APP_HEADERS,
  sidecarConfig,
  startBenchArgoCD,
  TWO_LINE_POLICY,
} from './bench-lib/sidecar-setup';

const WARMUP = Number(process.env.INSTR_WARMUP ?? 20_000);
const PER_WINDOW = Number(process.env.INSTR_REQUESTS ?? 3000);
const WINDOWS = Number(process.env.INSTR_WINDOWS ?? 5);
const CONNECTIONS = 16;

const thousands = (n: number) => `${fmt(n / 1000, 1)}k`;

interface Counted {
  contender: string;
  perRequest: number[];
}

async function main(): Promise<number> {
  if (!hasCallgrind()) {
    process.stderr.write(
      'bench:instructions: valgrind is not installed (Debian: apt-get install valgrind)\n',
    );
    return 2;
  }
  for (const [name, value] of [
    ['INSTR_WARMUP', WARMUP],
    ['INSTR_REQUESTS', PER_WINDOW],
    ['INSTR_WINDOWS', WINDOWS],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      process.stderr.write(`bench:instructions: ${name} must be a positive integer\n`);
      return 2;
    }
  }
  const say = (line: string) => process.stderr.write(`bench:instructions: ${line}\n`);
  const cleanups: Array<() => unknown> = [];
  const stopHandlingSignals = stopOnSignals(cleanups, say);
  const dumps = mkdtempSync(join(tmpdir(), 'bench-callgrind-'));
  cleanups.push(() => rmSync(dumps, { recursive: true, force: true }));
  const results: Counted[] = [];
  try {
    const backend = await startScript('backend.js', ['1024']);
    cleanups.push(() => backend.child.kill('SIGTERM'));
    const backends = new Map<number, PortProcess>([[1024, backend]]);
    const argocd = await startBenchArgoCD();
    cleanups.push(() => argocd.stop());
    const headers = {
      Cookie: `argocd.token=${signLocalToken({ sub: 'alice:login' })}`,
      ...APP_HEADERS,
    };
    const backendPort = String(backend.port);

    const measure = async (contender: string, pid: number, url: string) => {
      say(`${contender}: ${WARMUP} requests of warm-up`);
      await requests(url, headers, WARMUP, CONNECTIONS);
      const perRequest: number[] = [];
      for (let w = 1; w <= WINDOWS; w++) {
        const count = await countDuring(pid, dumps, () =>
          requests(url, headers, PER_WINDOW, CONNECTIONS),
        );
        perRequest.push(count / PER_WINDOW);
        say(`${contender}: window ${w}/${WINDOWS}: ${thousands(count / PER_WINDOW)}`);
      }
      results.push({ contender, perRequest });
    };

    for (const [contender, script] of [
      ['bare undici proxy', 'undici-proxy.js'],
      ['plain Node proxy', 'plain-proxy.js'],
    ]) {
      say(`${contender}: starting under callgrind`);
      const proxy = await startScript(script, [backendPort], callgrindWrapper(dumps));
      const stop = () => proxy.child.kill('SIGTERM');
      cleanups.push(stop);
      await measure(contender, proxy.child.pid!, `http://127.0.0.1:${proxy.port}/`);
      stop();
    }
    for (const [contender, policy] of [
      ['sidecar, all checks, 2-line policy', TWO_LINE_POLICY],
      ['sidecar, all checks, 10,000-line policy', generatePolicy(10_000)],
    ]) {
      say(`${contender}: starting under callgrind`);
      const config = sidecarConfig(backends, policy);
      cleanups.push(() => config.remove());
      const sidecar = new SidecarProcess(
        [...config.flags, ...argocd.sidecarFlags()],
        {},
        { discardOutputAfterStart: true, wrapper: callgrindWrapper(dumps) },
      );
      await sidecar.start();
      cleanups.push(() => sidecar.stop());
      await measure(contender, sidecar.pid, `${sidecar.url}/extensions/bench/`);
      await sidecar.stop();
    }
  } finally {
    stopHandlingSignals();
    await runCleanups(cleanups);
  }

  const plain = results.find((r) => r.contender === 'plain Node proxy')!;
  const out = (text: string) => process.stdout.write(text + '\n');
  out(
    `\nUser-space instructions per request (callgrind; ${WINDOWS} windows of ${PER_WINDOW} ` +
      `requests after ${WARMUP} of warm-up, ${CONNECTIONS} keep-alive connections, 1 KiB responses)\n`,
  );
  out(
    table(
      ['contender', 'lowest window', 'median window', 'every window', 'lowest vs plain'],
      results.map((r) => [
        r.contender,
        thousands(Math.min(...r.perRequest)),
        thousands(median(r.perRequest)),
        r.perRequest.map(thousands).join(', '),
        ratio(Math.min(...r.perRequest), Math.min(...plain.perRequest)),
      ]),
    ),
  );
  const lowest = (contender: string) =>
    Math.min(...results.find((r) => r.contender === contender)!.perRequest);
  const sidecar = lowest('sidecar, all checks, 2-line policy') / lowest('plain Node proxy');
  const policy =
    lowest('sidecar, all checks, 10,000-line policy') /
    lowest('sidecar, all checks, 2-line policy');
  const lines: Array<[string, number, number]> = [
    ['sidecar (all checks) vs the plain Node proxy', sidecar, BUDGET.sidecarVsPlain],
    ['10,000-line policy vs 2-line', policy, BUDGET.policy10kVs2],
  ];
  out('\nBudgets (lowest windows, this run)\n');
  out(
    table(
      ['budget', 'measured', 'limit', ''],
      lines.map(([what, measured, limit]) => [
        what,
        `${measured.toFixed(3)}x`,
        `<= ${limit}x`,
        measured <= limit ? 'pass' : 'MISS',
      ]),
    ),
  );
  return lines.every(([, measured, limit]) => measured <= limit) ? 0 : 1;
}

/**
 * Instructions per request (lowest windows) against references of the same run: with every
 * check on, no more than the plain Node `http` proxy (the sidecar's client and parser are
 * leaner than Node's http client, which pays for the checks); a 10,000-line policy at most
 * 5 % over a 2-line one (a decision must not grow with the policy).
 */
const BUDGET = { sidecarVsPlain: 1.0, policy10kVs2: 1.05 };

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench:instructions: ${err instanceof Error ? err.message : err}\n`);
    process.exitCode = 1;
  },
);
