/**
 * The load generator of `npm run bench`: Debian's `wrk` when installed (lighter than the
 * proxies it drives), else autocannon in its own process. Always asynchronous: the Argo CD
 * stand-in lives in the bench process and must keep answering during the load.
 */
import { execFile, execFileSync } from 'child_process';
import http from 'http';
import { join } from 'path';
import { promisify } from 'util';
import { REPO_ROOT } from '../../test/helpers/sidecar-process';

const run = promisify(execFile);

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  /** Non-2xx responses plus socket errors. */
  errors: number;
}

export interface LoadOptions {
  url: string;
  headers: Record<string, string>;
  connections: number;
  durationS: number;
}

let wrkInstalled: boolean | undefined;

export function hasWrk(): boolean {
  if (wrkInstalled === undefined) {
    try {
      execFileSync('wrk', ['--version'], { stdio: 'ignore' });
      wrkInstalled = true;
    } catch (err) {
      // wrk --version exits 1 but prints its version; ENOENT means it is not installed.
      wrkInstalled = (err as NodeJS.ErrnoException).code !== 'ENOENT';
    }
  }
  return wrkInstalled;
}

/**
 * One GET: its status (0 when no response came: a socket error) and, for any status but
 * 200, the start of its body (the proxy's error message); a 200's body is drained unread.
 */
export function getAnswer(
  url: string,
  headers: Record<string, string>,
  agent?: http.Agent,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { headers, agent }, (res) => {
      const status = res.statusCode ?? 0;
      let body = '';
      if (status === 200) res.resume();
      else res.on('data', (d: Buffer) => (body += body.length < 500 ? d.toString() : ''));
      res.on('end', () => resolve({ status, body: body.slice(0, 500) }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

/** One GET, its body drained: the status, or 0 when no response came (a socket error). */
export async function getStatus(
  url: string,
  headers: Record<string, string>,
  agent?: http.Agent,
): Promise<number> {
  return (await getAnswer(url, headers, agent)).status;
}

export async function load(options: LoadOptions): Promise<LoadResult> {
  const { url, headers, connections, durationS } = options;
  const headerArgs = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const timeout = (durationS + 30) * 1000;
  if (hasWrk()) {
    const { stdout: out } = await run(
      'wrk',
      [
        '-t',
        '1',
        '-c',
        String(connections),
        '-d',
        `${durationS}s`,
        // wrk drops requests slower than its 2 s default from the latency figures and calls
        // them errors; on an overloaded 2-core machine the 256-connection rows have a few.
        '--timeout',
        '10s',
        '--latency',
        ...headerArgs,
        url,
      ],
      { encoding: 'utf8', timeout },
    );
    const ms = (label: string) => {
      const m = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out);
      if (!m) return NaN;
      const scale = m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1;
      return Number(m[1]) * scale;
    };
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
    const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    const socketErrors = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
    return {
      rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
      p50: ms('50%'),
      p99: ms('99%'),
      errors: non2xx + socketErrors,
    };
  }
  const { stdout: out } = await run(
    process.execPath,
    [
      join(REPO_ROOT, 'node_modules', 'autocannon', 'autocannon.js'),
      '-c',
      String(connections),
      '-d',
      String(durationS),
      '-j',
      ...headerArgs,
      url,
    ],
    { encoding: 'utf8', timeout, maxBuffer: 16 * 1024 * 1024 },
  );
  const r = JSON.parse(out) as {
    requests: { average: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
  };
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.non2xx + r.errors,
  };
}
