import { ArgoCDSessionApi } from '../auth/effective-groups';
import { ConfigWatcher } from '../config/config-watcher';
import {
  AppliedConfig,
  CONFIG_OBJECTS,
  ConfigProblem,
  ConfigSources,
  loadSettings,
  LoadResult,
  SettingsOptions,
} from '../config/settings';
import { describeError, ServiceUnavailableError } from '../errors';
import { Logger } from '../logger';
import { ProxyMetrics } from '../metrics';
import { ForwardFailure } from '../proxy/forwarder';
import { DelegateHub } from '../delegate/sidecar/hub';
import { ReplicaRegistry } from '../delegate/sidecar/replica-registry';
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
  /** Asks Argo CD for SSO groups it replaces (passed on to buildRuntime). */
  argocdApi?: ArgoCDSessionApi;
  /** Called after a new runtime is in place (to drop caches that outlive it). */
  onReload?: (runtime: Runtime) => void;
}

/**
 * Owns the current Runtime: loads it at start (refusing to start on any problem), then
 * reloads on change, applying each object on its own (config/settings.ts loadSettings): a
 * valid policy always applies, a broken one denies every invoke, a broken extension.config
 * keeps the previous extensions. Problems in force are logged, counted per object and shown
 * by /readyz.
 */
export class ConfigManager {
  private runtime?: Runtime;
  private applied?: AppliedConfig;
  private generation = 0;
  private watcher?: ConfigWatcher;
  private problems: ConfigProblem[] = [];

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

  /** Problems in force now, by object, with what each does to requests (for /readyz). */
  get problemsInForce(): ConfigProblem[] {
    return this.problems;
  }

  /**
   * Loads the first configuration; throws ConfigLoadError listing every problem, unless
   * `waitForValid`: then it logs them, keeps watching, and applies the first valid one.
   */
  async start(waitForValid = false): Promise<void> {
    const problems = await this.load();
    if (!this.runtime) {
      if (!waitForValid) throw new ConfigLoadError(problems);
      this.options.logger.error(
        'no valid configuration; answering 503 until the configuration is fixed',
        { problems },
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

  /** Re-reads everything and applies what is usable (see the class comment). */
  async reload(): Promise<void> {
    const problems = await this.load();
    if (!this.runtime) {
      this.options.logger.error('configuration is still invalid; answering 503', { problems });
    }
  }

  /** Loads and applies; returns every problem found, each prefixed with its object. */
  private async load(): Promise<string[]> {
    const { logger, metrics } = this.options;
    let result: LoadResult;
    try {
      result = await loadSettings(this.options.sources, this.options, this.applied);
    } catch (err) {
      metrics.configReloads.inc({ result: 'rejected' });
      metrics.configLastReloadSuccess.set(0);
      const problem = describeError(err);
      logger.error('configuration could not be read; nothing changed', { problems: [problem] });
      return [problem];
    }
    for (const warning of result.warnings) logger.warn('configuration warning', { warning });
    const all = result.problems.flatMap((p) => p.problems);
    this.problems = result.problems;
    if (!result.settings) {
      metrics.configReloads.inc({ result: 'rejected' });
      metrics.configLastReloadSuccess.set(0);
      return all;
    }
    const previous = this.runtime;
    const runtime = await buildRuntime(result.settings.settings, this.generation + 1, this.options);
    this.generation = runtime.generation;
    logger.setSecrets(result.settings.settings.secretValues);
    this.applied = result.settings;
    this.runtime = runtime;
    if (previous) retireRuntime(previous);
    this.options.onReload?.(runtime);
    metrics.configReloads.inc({ result: all.length === 0 ? 'success' : 'partial' });
    metrics.configLastReloadSuccess.set(all.length === 0 ? 1 : 0);
    metrics.configGeneration.set(runtime.generation);
    for (const object of CONFIG_OBJECTS) {
      const count = result.problems
        .filter((p) => p.object === object)
        .reduce((n, p) => n + p.problems.length, 0);
      metrics.configProblems.set({ object }, count);
    }
    // One error line per effect, so an operator reads what a problem does to requests.
    for (const problem of result.problems) {
      logger.error(`configuration problem in ${problem.object}: ${problem.effect}`, {
        object: problem.object,
        effect: problem.effect,
        problems: problem.problems,
        generation: runtime.generation,
      });
    }
    logger.info('configuration loaded', {
      generation: runtime.generation,
      extensions: [...runtime.settings.extensions.keys()],
      policy: runtime.settings.rbac ? 'loaded' : 'unavailable: every invoke is denied',
      sso: runtime.settings.auth.sso?.issuer ?? null,
    });
    return all;
  }
}
