/**
 * ConfigWatcher: a kubelet-style update of a mounted directory is seen through the
 * directory's inotify watch, without waiting for the poll; polling covers directories that
 * cannot be watched; reloads never overlap and a change made during one is not left for the
 * next poll.
 */
import { mkdirSync, mkdtempSync, rmSync, watch, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ConfigWatcher } from '../../../proxy-server/src/config/config-watcher';
import { eventually } from '../../helpers/http-client';
import { ArgoCDConfig } from '../../helpers/mounted-dir';

const NO_POLL = 3_600_000; // an hour: within a test, only the watch can report a change

/**
 * Resolves once a change in `dir` has reached this process's watches of it: libuv hands
 * one inotify read to every watch of the directory in the same pass, so after this
 * watch's callback and a turn of the event loop, the ConfigWatcher's has run too.
 * Call it before making the change.
 */
function dirEvent(dir: string): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(dir, () => {
      watcher.close();
      setImmediate(resolve);
    });
  });
}

/**
 * Fake timers for the watcher's settle delay and poll interval only (fs events and
 * setImmediate stay real): advancing the clock is then the proof that it has looked.
 */
function fakeTimers(): void {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
}

/** Longer than the watcher's settle delay (milliseconds); any poll interval below runs too. */
const ANY_DELAY_MS = 1000;

describe('ConfigWatcher', () => {
  let config: ArgoCDConfig;
  let watcher: ConfigWatcher | undefined;
  const sources = () => ({
    argocdCmDir: config.cm.path,
    argocdRbacCmDir: config.rbac.path,
    argocdSecretDir: config.secret.path,
  });

  beforeEach(() => {
    config = new ArgoCDConfig({
      cm: { url: 'https://cd.example.com' },
      rbac: { 'policy.csv': 'p, alice, extensions, invoke, a, allow' },
      secret: { 'server.secretkey': 'k' },
    });
  });
  afterEach(() => {
    jest.useRealTimers();
    watcher?.stop();
    watcher = undefined;
    config.remove();
  });

  /** Starts a watcher on `watched` (default: the three directories) that counts its calls. */
  const startCounting = (intervalMs: number, watched = sources()) => {
    let calls = 0;
    const started = new ConfigWatcher(watched, intervalMs, () => {
      calls++;
      return Promise.resolve();
    });
    watcher = started;
    started.start();
    return { watcher: started, calls: () => calls };
  };

  it('sees a swap of ..data through the watch, without waiting for the poll', async () => {
    const counter = startCounting(NO_POLL);
    config.rbac.update({ 'policy.csv': 'p, bob, extensions, invoke, a, allow' });
    await eventually(() => expect(counter.calls()).toBe(1));
    config.secret.update({ 'server.secretkey': 'k2' });
    await eventually(() => expect(counter.calls()).toBe(2));
  });

  it('does not call for events that leave the keys as they were', async () => {
    fakeTimers();
    const counter = startCounting(20);
    const changed = dirEvent(config.cm.path);
    writeFileSync(join(config.cm.path, '.scratch'), 'x'); // dot names are never keys
    await changed;
    // The watch's settle delay and fifty polls: each compared the directories since.
    await jest.advanceTimersByTimeAsync(ANY_DELAY_MS);
    expect(counter.calls()).toBe(0);
  });

  it('checks again when a reload ends if the directories changed during it', async () => {
    let running = 0;
    let overlapped = false;
    const seen: string[] = [];
    let release: () => void = () => undefined;
    watcher = new ConfigWatcher(sources(), NO_POLL, async () => {
      running++;
      overlapped ||= running > 1;
      seen.push('call');
      if (seen.length === 1) await new Promise<void>((r) => (release = r));
      running--;
    });
    fakeTimers();
    watcher.start();
    let changed = dirEvent(config.rbac.path);
    config.rbac.update({ 'policy.csv': 'p, bob, extensions, invoke, a, allow' });
    await changed;
    await jest.advanceTimersByTimeAsync(ANY_DELAY_MS);
    expect(seen).toHaveLength(1);
    // The first reload is still running: this change must wait for it, not overlap it.
    changed = dirEvent(config.rbac.path);
    config.rbac.update({ 'policy.csv': 'p, carol, extensions, invoke, a, allow' });
    await changed;
    await jest.advanceTimersByTimeAsync(ANY_DELAY_MS); // the watcher has seen the change
    expect(seen).toHaveLength(1);
    release();
    await jest.advanceTimersByTimeAsync(ANY_DELAY_MS);
    expect(seen).toHaveLength(2);
    expect(overlapped).toBe(false);
  });

  it('polls a directory it could not watch (missing at start)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'late-cm-'));
    const lateDir = join(root, 'argocd-cm');
    try {
      fakeTimers();
      const counter = startCounting(50, { ...sources(), argocdCmDir: lateDir });
      mkdirSync(lateDir);
      writeFileSync(join(lateDir, 'url'), 'https://cd.example.com');
      await jest.advanceTimersByTimeAsync(50); // one poll
      expect(counter.calls()).toBe(1);
      await jest.advanceTimersByTimeAsync(ANY_DELAY_MS); // twenty more, with nothing new
      expect(counter.calls()).toBe(1);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('reports nothing once stopped', async () => {
    fakeTimers();
    const counter = startCounting(20);
    counter.watcher.stop();
    const changed = dirEvent(config.rbac.path);
    config.rbac.update({ 'policy.csv': 'p, bob, extensions, invoke, a, allow' });
    await changed;
    // Neither a poll nor a settle delay is left to run: nothing can call any more.
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(ANY_DELAY_MS);
    expect(counter.calls()).toBe(0);
  });
});
