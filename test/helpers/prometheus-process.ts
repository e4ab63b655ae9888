/**
 * A real Prometheus (Debian's `prometheus` package, which also provides `promtool`) on a
 * loopback port, serving a TSDB backfilled from OpenMetrics text with promtool: for the
 * anomaly backend's integration tests and `npm run bench` (the Anomalies tab).
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { freePort } from './processes';

/** Whether `prometheus` and `promtool` are on PATH. */
export function hasPrometheus(): boolean {
  return (
    spawnSync('prometheus', ['--version']).status === 0 &&
    spawnSync('promtool', ['--version']).status === 0
  );
}

export interface PrometheusProcessOptions {
  /**
   * promtool's `--max-block-duration` (a hidden flag): longest block the backfill writes,
   * e.g. `500h`. Default (promtool's): 2-hour blocks, one pass over the whole input per
   * block, which for 15 days is 180 passes, and Prometheus then compacts them in the
   * background while it serves.
   */
  maxBlockDuration?: string;
}

/**
 * Prometheus on a TSDB in a temporary directory, backfilled with `promtool tsdb
 * create-blocks-from openmetrics` from `openMetrics` (the text, or its pieces in order,
 * written one after the other: a large input need not be one string). Every sample must be
 * in the past. Retention 10 years, so old backfilled data stays; stop() removes the directory.
 */
export class PrometheusProcess {
  url = '';
  /** How long the backfill took (milliseconds). */
  backfillMs = NaN;
  private child?: ChildProcess;
  private dir = '';

  constructor(
    private readonly openMetrics: string | Iterable<string>,
    private readonly options: PrometheusProcessOptions = {},
  ) {}

  async start(): Promise<this> {
    this.dir = mkdtempSync(join(tmpdir(), 'anomaly-prometheus-'));
    const input = join(this.dir, 'series.om');
    if (typeof this.openMetrics === 'string') {
      writeFileSync(input, this.openMetrics);
    } else {
      const fd = openSync(input, 'w');
      try {
        for (const piece of this.openMetrics) writeSync(fd, piece);
      } finally {
        closeSync(fd);
      }
    }
    const data = join(this.dir, 'data');
    const started = performance.now();
    const backfill = spawnSync(
      'promtool',
      [
        'tsdb',
        'create-blocks-from',
        'openmetrics',
        ...(this.options.maxBlockDuration
          ? [`--max-block-duration=${this.options.maxBlockDuration}`]
          : []),
        input,
        data,
      ],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    this.backfillMs = performance.now() - started;
    if (backfill.status !== 0) throw new Error(`promtool failed: ${backfill.stderr}`);
    rmSync(input, { force: true });
    const config = join(this.dir, 'prometheus.yml');
    writeFileSync(config, 'global:\n  scrape_interval: 1m\n');
    const port = await freePort();
    this.child = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${data}`,
        '--storage.tsdb.retention.time=10y',
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const stderr: string[] = [];
    this.child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
    this.url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if (this.child.exitCode !== null) throw new Error(`prometheus exited:\n${stderr.join('')}`);
      const ready = await fetch(`${this.url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (i > 300) throw new Error(`prometheus not ready:\n${stderr.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return this;
  }

  get pid(): number {
    if (!this.child?.pid) throw new Error('prometheus not running');
    return this.child.pid;
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child!.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
