/**
 * `npm run bench`: throughput and latency of the sidecar with every check on, next to the
 * backend alone and a plain Node proxy, measured in one run on this machine. The load
 * generator is Debian's `wrk` when installed (it is lighter than the proxies it drives),
 * else autocannon in its own process.
 *
 * Environment: BENCH_DURATION (seconds per contender, default 10), BENCH_CONNECTIONS
 * (default 32).
 */
import { ChildProcess, execFile, execFileSync, spawn } from 'child_process';
import { promisify } from 'util';
import { join } from 'path';
import { FakeArgoCD } from '../test/helpers/fake-argocd';
import { signLocalToken, TEST_SERVER_SECRET } from '../test/helpers/local-tokens';
import { ArgoCDConfig } from '../test/helpers/mounted-dir';
import { REPO_ROOT, SidecarProcess } from '../test/helpers/sidecar-process';

const run = promisify(execFile);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

interface Result {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

function startScript(
  script: string,
  args: string[],
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'scripts', 'bench', script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) =>
      resolve({ child, port: Number(d.toString().trim()) }),
    );
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version exits 1 but prints its version; ENOENT means it is not installed.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/**
 * Runs the load generator in its own process, asynchronously: the Argo CD stand-in lives in
 * this process and must keep answering while the load runs.
 */
async function load(name: string, url: string, headers: Record<string, string>): Promise<Result> {
  const headerArgs = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  if (hasWrk()) {
    const { stdout: out } = await run(
      'wrk',
      [
        '-t',
        '1',
        '-c',
        String(CONNECTIONS),
        '-d',
        `${DURATION_S}s`,
        '--latency',
        ...headerArgs,
        url,
      ],
      { encoding: 'utf8', timeout: (DURATION_S + 30) * 1000 },
    );
    const ms = (label: string) => {
      const m = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out);
      if (!m) return NaN;
      const scale = m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1;
      return Number(m[1]) * scale;
    };
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
    const socketErrors =
      /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    const errs = socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
    return {
      name,
      rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
      p50: ms('50%'),
      p99: ms('99%'),
      errors: non2xx + errs,
    };
  }
  const { stdout: out } = await run(
    process.execPath,
    [
      join(REPO_ROOT, 'node_modules', 'autocannon', 'autocannon.js'),
      '-c',
      String(CONNECTIONS),
      '-d',
      String(DURATION_S),
      '-j',
      ...headerArgs,
      url,
    ],
    { encoding: 'utf8', timeout: (DURATION_S + 30) * 1000 },
  );
  const r = JSON.parse(out) as {
    requests: { average: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
  };
  return {
    name,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.non2xx + r.errors,
  };
}

async function main(): Promise<void> {
  const backend = await startScript('backend.js', ['1024']);
  const plain = await startScript('plain-proxy.js', [String(backend.port)]);
  const argocd = new FakeArgoCD();
  await argocd.start();
  argocd.setApplications([
    {
      name: 'guestbook',
      namespace: 'argocd',
      project: 'default',
      destination: { server: 'https://kubernetes.default.svc' },
      readers: ['alice'],
    },
  ]);
  const config = new ArgoCDConfig({
    cm: {
      'extension.config.bench': `maxIdleConnections: 256\nservices:\n- url: http://127.0.0.1:${backend.port}/\n  headers:\n  - name: Authorization\n    value: $bench.token\n`,
    },
    rbac: { 'policy.csv': 'p, alice, extensions, invoke, bench, allow\n' },
    secret: { 'server.secretkey': TEST_SERVER_SECRET, 'bench.token': 'bench-backend-token' },
  });
  // Default log level: one JSON line per request, as in production.
  const sidecar = new SidecarProcess(
    [...config.flags, '--argocd-server', argocd.url],
    {},
    { discardOutputAfterStart: true },
  );
  await sidecar.start();
  const token = signLocalToken({ sub: 'alice:login' });
  const appHeaders = {
    'Argocd-Application-Name': 'argocd:guestbook',
    'Argocd-Project-Name': 'default',
  };
  const generator = hasWrk() ? 'wrk' : 'autocannon';
  process.stderr.write(
    `bench: ${generator}, ${CONNECTIONS} connections, ${DURATION_S} s per contender, 1 KiB responses\n`,
  );
  try {
    const results = [
      await load('backend direct', `http://127.0.0.1:${backend.port}/`, {}),
      await load('plain Node proxy', `http://127.0.0.1:${plain.port}/`, {}),
      await load('sidecar, all checks', `${sidecar.url}/extensions/bench/`, {
        Cookie: `argocd.token=${token}`,
        ...appHeaders,
      }),
    ];
    const baseline = results[1];
    const rows = results.map((r) => [
      r.name,
      r.rps.toFixed(0),
      r.p50.toFixed(2),
      r.p99.toFixed(2),
      (r.rps / baseline.rps).toFixed(2) + 'x',
      (r.p99 / baseline.p99).toFixed(2) + 'x',
      String(r.errors),
    ]);
    const header = [
      'contender',
      'req/s',
      'p50 ms',
      'p99 ms',
      'req/s vs plain',
      'p99 vs plain',
      'errors',
    ];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (cells: string[]) =>
      '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
    process.stdout.write(
      [
        line(header),
        '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|',
        ...rows.map(line),
      ].join('\n') + '\n',
    );
    const failed = results.filter((r) => r.errors > 0 || !(r.rps > 0));
    if (failed.length > 0) {
      process.stderr.write(
        `bench: errors (or no successful requests) during load for: ${failed.map((r) => r.name).join(', ')}\n`,
      );
      process.exitCode = 1;
    }
  } finally {
    await sidecar.stop();
    await argocd.stop();
    backend.child.kill('SIGTERM');
    plain.child.kill('SIGTERM');
    config.remove();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exit(1);
});
