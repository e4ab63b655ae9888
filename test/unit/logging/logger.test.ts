import { spawnSync } from 'child_process';
import { join } from 'path';
import { createLogger } from '../../../proxy-server/src/logger';
import { REPO_ROOT } from '../../helpers/sidecar-process';

const BUILT_LOGGER = join(REPO_ROOT, 'dist', 'proxy-server', 'src', 'logger.js');

/** Runs `script` in a fresh Node process with the built logger as `createLogger`. */
function runWithLogger(script: string): { stdout: string; status: number | null } {
  const result = spawnSync(
    process.execPath,
    ['-e', `const { createLogger } = require(${JSON.stringify(BUILT_LOGGER)});\n${script}`],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  return { stdout: result.stdout, status: result.status };
}

describe('createLogger', () => {
  it('writes one JSON line per entry with time, level, message and fields', () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (line) => lines.push(line) });
    logger.info('extension request', { status: 200, user: 'alice' });
    logger.debug('not shown at the default level');
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    const entry = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'info', msg: 'extension request', status: 200 });
    expect(new Date(entry.time as string).toISOString()).toBe(entry.time);
  });

  it('puts time, level and message first, then the fields; escapes the message; drops undefined', () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (line) => lines.push(line) });
    logger.warn('a "quoted"\nmessage', { b: 1, a: undefined, c: ['x'] });
    logger.warn('no fields');
    logger.warn('only undefined fields', { a: undefined });
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(Object.keys(entries[0])).toEqual(['time', 'level', 'msg', 'b', 'c']);
    expect(entries[0]).toMatchObject({ level: 'warn', msg: 'a "quoted"\nmessage', b: 1, c: ['x'] });
    expect(Object.keys(entries[1])).toEqual(['time', 'level', 'msg']);
    expect(Object.keys(entries[2])).toEqual(['time', 'level', 'msg']);
    expect(
      lines.every((line) => line.endsWith('}\n') && line.indexOf('\n') === line.length - 1),
    ).toBe(true);
  });

  it('redacts registered secrets, also in their JSON-escaped form', () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (line) => lines.push(line) });
    logger.setSecrets(['s3cr3t"value']);
    logger.error('backend failed', { error: 'token s3cr3t"value rejected' });
    expect(lines[0]).not.toContain('s3cr3t');
    expect(lines[0]).toContain('[REDACTED]');
  });

  it('loses no stdout line when the process exits right after logging', () => {
    // The default writer batches the lines of one event-loop turn; exit must flush them.
    const { stdout, status } = runWithLogger(`
      const logger = createLogger();
      for (let i = 0; i < 3; i++) logger.info('line', { i });
      process.exit(3);
    `);
    expect(status).toBe(3);
    const entries = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { i: number });
    expect(entries.map((e) => e.i)).toEqual([0, 1, 2]);
  });

  it('writes lines in order across many event-loop turns and large bursts', () => {
    const { stdout, status } = runWithLogger(`
      const logger = createLogger();
      let n = 0;
      const burst = () => {
        for (let i = 0; i < 500; i++) logger.info('line', { n: n++, pad: 'x'.repeat(200) });
        if (n < 5000) setImmediate(burst);
      };
      burst();
    `);
    expect(status).toBe(0);
    const numbers = stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { n: number }).n);
    expect(numbers).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });
});
