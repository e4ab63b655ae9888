import { spawn } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import http from 'http';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import {
  callgrindWrapper,
  countDuring,
  parseDumpTotal,
  requests,
} from '../../scripts/bench-lib/callgrind';

describe('parseDumpTotal', () => {
  it('reads the summary line, else the totals line', () => {
    expect(parseDumpTotal('version: 1\ncreator: callgrind-3.19.0\nsummary: 1234567\n')).toBe(
      1234567,
    );
    expect(parseDumpTotal('events: Ir\nfn=(1) main\n16 8\ntotals: 42\n')).toBe(42);
  });

  it('refuses a file that is not a callgrind dump', () => {
    expect(() => parseDumpTotal('<html>not a dump</html>')).toThrow('not a callgrind dump');
  });
});

describe('requests', () => {
  let server: http.Server;
  let url = '';
  let served = 0;
  let failAt = -1;

  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      served++;
      if (served === failAt) res.writeHead(500).end('{"error":"backend is unavailable"}');
      else res.writeHead(200).end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('sends exactly the number of requests asked for, with the headers', async () => {
    served = 0;
    const seen: string[] = [];
    server.once('request', (req: http.IncomingMessage) => seen.push(String(req.headers['x-b'])));
    await requests(url, { 'X-B': 'yes' }, 37, 4);
    expect(served).toBe(37);
    expect(seen).toEqual(['yes']);
  });

  it("rejects when a response is not a 200, with the answer's error", async () => {
    served = 0;
    failAt = 5;
    await expect(requests(url, {}, 10, 2)).rejects.toThrow(
      'answered 500: {"error":"backend is unavailable"}',
    );
    failAt = -1;
  });
});

/**
 * A server whose every answer costs the same fixed work, run without V8's JIT and background
 * threads (which would add compile bursts of their own to some windows).
 */
const FIXED_WORK_SERVER = `
  const http = require('http');
  const server = http.createServer((req, res) => {
    let x = 0;
    for (let i = 0; i < 10000; i++) x = (x * 31 + i) % 1000003;
    res.end(String(x));
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
  process.on('SIGTERM', () => process.exit(0));
`;

describe('countDuring (a real process under valgrind)', () => {
  it('counts each window from zero, in proportion to the requests in it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callgrind-test-'));
    const [command, ...args] = [
      ...callgrindWrapper(dir),
      process.execPath,
      '--jitless',
      '--single-threaded',
      '-e',
      FIXED_WORK_SERVER,
    ];
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
        child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
      });
      const url = `http://127.0.0.1:${port}/`;
      const pid = child.pid!;
      await requests(url, {}, 20, 2);
      const first = await countDuring(pid, dir, () => requests(url, {}, 50, 2));
      const second = await countDuring(pid, dir, () => requests(url, {}, 50, 2));
      const fourfold = await countDuring(pid, dir, () => requests(url, {}, 200, 2));
      // 10,000 interpreted iterations: well over a million instructions per answer.
      expect(first / 50).toBeGreaterThan(1_000_000);
      // Each window starts from zero: the second does not include the first.
      expect(second / first).toBeGreaterThan(0.9);
      expect(second / first).toBeLessThan(1.1);
      // Four times the requests, four times the count.
      expect(fourfold / second).toBeGreaterThan(3.6);
      expect(fourfold / second).toBeLessThan(4.4);
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
