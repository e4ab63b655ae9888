import { FSWatcher, watch } from 'fs';
import { fingerprintConfigDir } from './config-dir';
import { ConfigSources } from './settings';

/** How long a burst of directory events (one kubelet update is several) is let settle. */
const SETTLE_MS = 25;

/**
 * Calls `onChange` when any of the mounted directories changed, judged by a fingerprint of
 * file metadata (cheap even with a 100,000-line policy). Two triggers:
 * - an inotify watch on each directory (`fs.watch`): the kubelet's swap of `..data` renames
 *   an entry of the directory itself, so a change is seen within milliseconds. (Watches on
 *   the key files would not do: their symlinks never change.)
 * - polling every `intervalMs`, which alone carries on where a directory cannot be watched
 *   (missing at start, inotify limits, a file system without events).
 * Calls never overlap: a change seen during a reload is checked again as soon as it ends.
 */
export class ConfigWatcher {
  private timer?: NodeJS.Timeout;
  private settle?: NodeJS.Timeout;
  private readonly watchers: FSWatcher[] = [];
  private last: string;
  private busy = false;
  private again = false;

  constructor(
    private readonly sources: ConfigSources,
    private readonly intervalMs: number,
    private readonly onChange: () => Promise<void>,
  ) {
    this.last = this.fingerprint();
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
    for (const dir of this.dirs()) {
      try {
        const watcher = watch(dir, { persistent: false }, () => this.tickSoon());
        // A watch that fails later (the directory removed, say) leaves polling to it.
        watcher.on('error', () => watcher.close());
        this.watchers.push(watcher);
      } catch {
        // Not watchable now (missing, no inotify instances left): polling covers it.
      }
    }
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.settle);
    for (const watcher of this.watchers) watcher.close();
    this.watchers.length = 0;
  }

  private dirs(): string[] {
    const { argocdCmDir, argocdRbacCmDir, argocdSecretDir } = this.sources;
    return [argocdCmDir, argocdRbacCmDir, argocdSecretDir];
  }

  private fingerprint(): string {
    return this.dirs().map(fingerprintConfigDir).join('\n');
  }

  private tickSoon(): void {
    if (this.settle) return;
    this.settle = setTimeout(() => {
      this.settle = undefined;
      void this.tick();
    }, SETTLE_MS);
    this.settle.unref();
  }

  private async tick(): Promise<void> {
    if (this.busy) {
      this.again = true;
      return;
    }
    const current = this.fingerprint();
    if (current === this.last) return;
    this.busy = true;
    this.last = current;
    try {
      await this.onChange();
    } finally {
      this.busy = false;
      if (this.again) {
        this.again = false;
        this.tickSoon();
      }
    }
  }
}
