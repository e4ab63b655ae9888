import { ConfigWatcher } from '../config/config-watcher';
import { ConfigSources, loadSettings, SettingsOptions } from '../config/settings';
import { describeError, ServiceUnavailableError } from '../errors';
import { Logger } from '../logger';
import { ProxyMetrics } from '../metrics';
import { ForwardFailure } from '../proxy/forwarder';
import { DelegateHub } from '../delegate/hub';
import { ReplicaRegistry } from '../delegate/replica-registry';
import { buildRuntime, retireRuntime, Runtime } from './runtime';

export class ConfigLoadError extends Error {
  constructor(readonly problems: string[]) {
    super(`configuration is invalid:\n  - ${problems.join('\n  - ')}`);
  }
}

export interface ConfigManagerOptions extends SettingsOptions {
  sources: ConfigSources;
  /** How often the mounted directories are checked, ms. Default: 500. */
  reloadIntervalMs: number;
  logger: Logger;
  metrics: ProxyMetrics;
  onForwardFailure: ForwardFailure;
  delegates: DelegateHub;
  registry?: ReplicaRegistry;
  /** Called after a new runtime is in place (to drop caches that outlive it). */
  onReload?: (runtime: Runtime) => void;
}

/**
 * Owns the current Runtime: loads it at start (refusing to start on any problem), then
 * reloads on change. An invalid new configuration is rejected as a whole, logged with every
 * problem and counted, and the last good one keeps serving.
 */
export class ConfigManager {
  private runtime?: Runtime;
  private generation = 0;
  private watcher?: ConfigWatcher;

  constructor(private readonly options: ConfigManagerOptions) {}

  /** The configuration in force; a 503 for the client while none is loaded yet. */
  get current(): Runtime {
    if (!this.runtime) {
      throw new ServiceUnavailableError(
        'the extension proxy has no valid configuration yet (see its log)',
        { headers: { 'retry-after': '5' } },
      );
    }
    return this.runtime;
  }

  get loaded(): boolean {
    return this.runtime !== undefined;
  }

  /**
   * Loads the first configuration; throws ConfigLoadError listing every problem, unless
   * `waitForValid`: then it logs them, keeps watching, and applies the first valid one.
   */
  async start(waitForValid = false): Promise<void> {
    const runtime = await this.load();
    if (!runtime.ok) {
      if (!waitForValid) throw new ConfigLoadError(runtime.problems);
      this.options.logger.error(
        'no valid configuration; answering 503 until the configuration is fixed',
        { problems: runtime.problems },
      );
    }
    this.watcher = new ConfigWatcher(this.options.sources, this.options.reloadIntervalMs, () =>
      this.reload(),
    );
    this.watcher.start();
  }

  stop(): void {
    this.watcher?.stop();
    if (this.runtime) {
      for (const forwarder of this.runtime.forwarders.values()) forwarder.close();
    }
  }

  /** Re-reads everything; on success swaps the runtime, on failure keeps the old one. */
  async reload(): Promise<void> {
    const result = await this.load();
    if (!result.ok) {
      this.options.logger.error('configuration change rejected; still serving the last good one', {
        problems: result.problems,
        generation: this.generation,
      });
    }
  }

  private async load(): Promise<{ ok: true } | { ok: false; problems: string[] }> {
    const { logger, metrics } = this.options;
    let problems: string[];
    try {
      const result = await loadSettings(this.options.sources, this.options);
      for (const warning of result.warnings) logger.warn('configuration warning', { warning });
      problems = result.problems;
      if (result.settings) {
        const previous = this.runtime;
        const runtime = await buildRuntime(result.settings, this.generation + 1, this.options);
        this.generation = runtime.generation;
        logger.setSecrets(result.settings.secretValues);
        this.runtime = runtime;
        if (previous) retireRuntime(previous);
        this.options.onReload?.(runtime);
        metrics.configReloads.inc({ result: 'success' });
        metrics.configLastReloadSuccess.set(1);
        metrics.configGeneration.set(runtime.generation);
        logger.info('configuration loaded', {
          generation: runtime.generation,
          extensions: [...runtime.settings.extensions.keys()],
          sso: runtime.settings.auth.sso?.issuer ?? null,
        });
        return { ok: true };
      }
    } catch (err) {
      problems = [describeError(err)];
    }
    metrics.configReloads.inc({ result: 'rejected' });
    metrics.configLastReloadSuccess.set(0);
    return { ok: false, problems };
  }
}
