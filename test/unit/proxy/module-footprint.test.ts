/**
 * What the sidecar and the agent load at start: undici's Pool module alone (not undici's
 * index, which brings fetch, WebSocket and caches: 9-15 MiB of idle memory), ioredis only
 * once a replica registry is created (--redis), and, in the agent, no http-proxy-middleware
 * (only the sidecar forwards WebSocket upgrades with it). Each check replaces the module that
 * must not load with one that throws, then loads the programs' entry points: main and each
 * command's module, which main loads when that command runs.
 */
import { readdirSync } from 'fs';
import { join } from 'path';
import { Pool as UndiciPool } from 'undici';
import { Pool } from '../../../proxy-server/src/proxy/undici-pool';

const CLI = join(__dirname, '../../../proxy-server/src/cli');
const ENTRIES = readdirSync(CLI)
  .filter((file) => file.endsWith('.ts'))
  .map((file) => join(CLI, file));
/** The `delegate` command: the agent process. */
const AGENT_ENTRY = join(CLI, 'delegate-agent');

/** Loads `entries` in a fresh module registry where requiring `forbidden` throws. */
function loadWithout(forbidden: string, entries = ENTRIES): unknown[] {
  const loaded: unknown[] = [];
  try {
    jest.isolateModules(() => {
      jest.doMock(forbidden, () => {
        throw new Error(`${forbidden} was loaded`);
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      for (const entry of entries) loaded.push(require(entry));
    });
  } finally {
    jest.dontMock(forbidden);
  }
  return loaded;
}

describe('module footprint', () => {
  it('uses the very Pool class undici exports', () => {
    expect(Pool).toBe(UndiciPool);
  });

  it('finds main and the command modules to load', () => {
    expect(ENTRIES.map((entry) => entry.slice(CLI.length + 1))).toEqual(
      expect.arrayContaining(['main.ts', 'serve.ts', 'delegate-agent.ts']),
    );
  });

  it("starts the programs without undici's index", () => {
    expect(loadWithout('undici')).toHaveLength(ENTRIES.length);
  });

  it('starts the programs without ioredis', () => {
    expect(loadWithout('ioredis')).toHaveLength(ENTRIES.length);
  });

  it('starts the delegate agent without http-proxy-middleware', () => {
    expect(loadWithout('http-proxy-middleware', [AGENT_ENTRY])[0]).toHaveProperty('runDelegate');
  });

  it('notices an entry point that does load them', () => {
    expect(() => loadWithout('undici', ['undici'])).toThrow('undici was loaded');
    expect(() => loadWithout('ioredis', ['ioredis'])).toThrow('ioredis was loaded');
    expect(() => loadWithout('http-proxy-middleware', [join(CLI, 'serve')])).toThrow(
      'http-proxy-middleware was loaded',
    );
    // …and leaves no mock behind.
    expect(loadWithout('ioredis')).toHaveLength(ENTRIES.length);
  });
});
