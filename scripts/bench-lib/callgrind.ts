/**
 * Counting instructions with valgrind's callgrind (`npm run bench:instructions`): a process
 * runs under `callgrind`, its counters are zeroed before a window of requests and dumped
 * after it, and the dump's total is the user-space instructions the window cost. The count
 * does not depend on what else the machine is doing (system calls are not in it).
 */
import { execFile, execFileSync } from 'child_process';
import { existsSync, readdirSync, readFileSync } from 'fs';
import http from 'http';
import { join } from 'path';
import { promisify } from 'util';
import { getAnswer } from './load';

const run = promisify(execFile);

export function hasCallgrind(): boolean {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The command prefix that runs a program under callgrind, dumps going to `dir`. */
export function callgrindWrapper(dir: string): string[] {
  return [
    'valgrind',
    '--tool=callgrind',
    // V8 writes and rewrites machine code: valgrind must notice (its default misses it).
    '--smc-check=all-non-file',
    `--callgrind-out-file=${join(dir, 'callgrind.%p')}`,
  ];
}

/** The instruction count of one callgrind dump (its `summary:` or `totals:` line). */
export function parseDumpTotal(text: string): number {
  const match = /^(?:summary|totals): (\d+)/m.exec(text);
  if (!match) throw new Error('not a callgrind dump: no summary or totals line');
  return Number(match[1]);
}

/**
 * Zeroes the counters of callgrind process `pid`, runs `work`, dumps, and returns the
 * instructions executed meanwhile (from the new dump file in `dir`).
 */
export async function countDuring(pid: number, dir: string, work: () => Promise<void>) {
  const before = new Set(readdirSync(dir));
  await run('callgrind_control', ['-z', String(pid)]);
  await work();
  await run('callgrind_control', ['-d', String(pid)]);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const dump = readdirSync(dir).find(
      (name) => name.startsWith(`callgrind.${pid}.`) && !before.has(name),
    );
    if (dump) {
      const path = join(dir, dump);
      // Written in one go, but read only once its last line (the totals) is there.
      const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
      if (/^totals: \d+/m.test(text)) return parseDumpTotal(text);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`callgrind did not write a dump for process ${pid} within 60 s`);
}

/**
 * `count` GET requests over `connections` keep-alive connections, `connections` at a time;
 * rejects when one gets no response or any status but 200 (a count of failures would be meaningless).
 */
export async function requests(
  url: string,
  headers: Record<string, string>,
  count: number,
  connections: number,
): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const { status, body } = await getAnswer(url, headers, agent);
      if (status === 0) throw new Error(`${url} gave no response (connection failed)`);
      if (status !== 200) throw new Error(`${url} answered ${status}: ${body}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, worker));
  } finally {
    agent.destroy();
  }
}
