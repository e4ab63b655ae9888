import { spawn } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { runCleanups } from '../../../scripts/bench-lib/interrupt';
import { REPO_ROOT } from '../../helpers/sidecar-process';

const HELPER = join(REPO_ROOT, 'dist', 'scripts', 'bench-lib', 'interrupt.js');

/**
 * A process that registers three cleanups (the middle one fails) with stopOnSignals, says
 * "ready", then waits; resolves with its exit code and output once it is signalled.
 */
async function signalled(signal: NodeJS.Signals, dir: string, release = false) {
  const script = `
    const { writeFileSync } = require('fs');
    const { stopOnSignals } = require(${JSON.stringify(HELPER)});
    const order = [];
    const cleanups = [
      () => { order.push('first'); writeFileSync(${JSON.stringify(join(dir, 'order'))}, order.join(',')); },
      () => { throw new Error('cleanup failed'); },
      () => new Promise((r) => setTimeout(() => { order.push('last'); r(); }, 50)),
    ];
    const release = stopOnSignals(cleanups, (line) => process.stdout.write(line + '\\n'));
    ${release ? 'release(); process.on(process.argv[1], () => process.exit(7));' : ''}
    setInterval(() => {}, 1000);
    process.stdout.write('ready\\n');
  `;
  const child = spawn(process.execPath, ['-e', script, signal], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n') && !child.killed) child.kill(signal);
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, out };
}

describe('stopOnSignals (npm run bench and npm run soak interrupted)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'interrupt-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'on %s runs every cleanup, last added first, even past a failing one, then exits 130',
    async (signal) => {
      const { code, out } = await signalled(signal, dir);
      expect(code).toBe(130);
      expect(out).toContain(`${signal}: stopping what was started`);
      expect(readFileSync(join(dir, 'order'), 'utf8')).toBe('last,first');
    },
  );

  it('once released, leaves the signal to the program', async () => {
    const { code } = await signalled('SIGTERM', dir, true);
    expect(code).toBe(7);
    expect(existsSync(join(dir, 'order'))).toBe(false);
  });
});

describe('runCleanups (the end of npm run bench and npm run soak)', () => {
  it('runs every cleanup, last added first, then rejects with the first failure', async () => {
    const order: string[] = [];
    const cleanups = [
      () => void order.push('first'),
      () => {
        order.push('second');
        throw new Error('second failed');
      },
      async () => {
        await new Promise((r) => setTimeout(r, 20));
        order.push('third');
        throw new Error('third failed');
      },
    ];
    const asGiven = [...cleanups];
    await expect(runCleanups(cleanups)).rejects.toThrow('third failed');
    expect(order).toEqual(['third', 'second', 'first']);
    expect(cleanups).toEqual(asGiven); // the caller's list is not reversed in place
  });

  it('resolves when every cleanup succeeds', async () => {
    const order: number[] = [];
    await runCleanups([() => order.push(1), () => order.push(2)]);
    expect(order).toEqual([2, 1]);
  });
});
