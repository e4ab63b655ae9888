/**
 * Loopback ports and process memory and CPU figures (read from /proc on Linux, summed over a
 * process and its children), for tests and `npm run bench`.
 */
import { readFileSync, writeFileSync } from 'fs';
import http from 'http';
import { AddressInfo } from 'net';

/** A port that was free a moment ago (for programs that cannot listen on port 0 and say so). */
export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The process and all its descendants (nginx: master and workers). */
export function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    try {
      for (const task of readFileSync(`/proc/${all[i]}/task/${all[i]}/children`, 'utf8')
        .trim()
        .split(/\s+/)) {
        if (task) all.push(Number(task));
      }
    } catch {
      // gone, or no /proc: no children to add
    }
  }
  return all;
}

/** Sum of one /proc/<pid>/status field (kB) over the processes, in MiB; NaN without /proc. */
function statusMiB(pids: number[], field: 'VmRSS' | 'VmHWM'): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
        readFileSync(`/proc/${pid}/status`, 'utf8'),
      );
      if (!match) return NaN;
      kb += Number(match[1]);
    } catch {
      return NaN;
    }
  }
  return kb / 1024;
}

export const rssMiB = (pids: number[]): number => statusMiB(pids, 'VmRSS');
export const peakRssMiB = (pids: number[]): number => statusMiB(pids, 'VmHWM');

/** Resets the peak-RSS mark of each process (Linux clear_refs "5"), so a phase has its own peak. */
export function resetPeakRss(pids: number[]): void {
  for (const pid of pids) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      // not permitted or no /proc: the peak then covers the whole life of the process
    }
  }
}

/**
 * CPU time (user + system, all threads) the processes have used so far, in seconds; NaN
 * without /proc. /proc counts it in USER_HZ ticks, 100 per second on Linux.
 */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): state is the first, utime the 12th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      return NaN;
    }
  }
  return ticks / 100;
}
