/**
 * What the sidecar and the agent load at start: undici's Pool module alone (not undici's
 * index, which brings fetch, WebSocket and caches: 9-15 MiB of idle memory), and ioredis only
 * once a replica registry is created (--redis). Each check replaces the module that must not
 * load with one that throws, then loads the programs' entry point.
 */
import { Pool as UndiciPool } from 'undici';
import { Pool } from '../../../proxy-server/src/proxy/undici-pool';

const ENTRY = '../../../proxy-server/src/cli/main';

/** Loads `entry` in a fresh module registry where requiring `forbidden` throws. */
function loadWithout(forbidden: string, entry = ENTRY): unknown {
  let loaded: unknown;
  try {
    jest.isolateModules(() => {
      jest.doMock(forbidden, () => {
        throw new Error(`${forbidden} was loaded`);
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require(entry);
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

  it("starts the programs without undici's index", () => {
    expect(loadWithout('undici')).toHaveProperty('main');
  });

  it('starts the programs without ioredis', () => {
    expect(loadWithout('ioredis')).toHaveProperty('main');
  });

  it('notices an entry point that does load them', () => {
    expect(() => loadWithout('undici', 'undici')).toThrow('undici was loaded');
    expect(() => loadWithout('ioredis', 'ioredis')).toThrow('ioredis was loaded');
    // …and leaves no mock behind.
    expect(loadWithout('ioredis')).toHaveProperty('main');
  });
});
