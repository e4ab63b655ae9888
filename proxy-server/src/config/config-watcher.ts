import { fingerprintConfigDir } from './config-dir';
import { ConfigSources } from './settings';

/**
 * Polls the mounted directories by metadata and calls `onChange` when any of them changed.
 * Polling (not fs.watch) because ConfigMap volumes change by swapping a symlink, which
 * inotify on the key files does not report reliably, and because metadata is cheap even
 * with a 100,000-line policy. Calls never overlap: a change seen during a reload is picked
 * up by the next tick.
 */
export class ConfigWatcher {
  private timer?: NodeJS.Timeout;
  private last: string;
  private busy = false;

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
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private fingerprint(): string {
    const { argocdCmDir, argocdRbacCmDir, argocdSecretDir } = this.sources;
    return [argocdCmDir, argocdRbacCmDir, argocdSecretDir].map(fingerprintConfigDir).join('\n');
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    const current = this.fingerprint();
    if (current === this.last) return;
    this.busy = true;
    this.last = current;
    try {
      await this.onChange();
    } finally {
      this.busy = false;
    }
  }
}
