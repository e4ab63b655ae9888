import type { AddressInfo } from 'net';
import { DEFAULT_QUERIES, loadMetricQueries } from '../sources/metric-queries';
import type { MetricSource } from '../sources/metric-source';
import { DEFAULT_CACHE_BYTES, HistoryCache } from '../sources/history-cache';
import { DEFAULT_MAX_CONCURRENT, PrometheusSource } from '../sources/prometheus-source';
import { SampleSource } from '../sources/sample-source';
import { createAnomalyServer } from './anomaly-server';
import { parseExploreTemplate, type ExploreTemplate } from './explore-link';
import { createJsonLogger } from './logger';

/** Wrong flags or environment. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `usage: anomaly-backend --listen HOST:PORT (--prometheus URL | --sample) [--queries FILE]
                       [--timeout SECONDS] [--max-queries N] [--cache-mb MIB]
                       [--explore-url TEMPLATE]
  --listen      address to serve on, e.g. 127.0.0.1:8080 (port 0: any free port)
                env ARGOCD_EXTENSION_PROXY_LISTEN
  --prometheus  Prometheus base URL            env ARGOCD_EXTENSION_PROXY_PROMETHEUS_URL
  --sample      serve generated sample data ("source": "sample")
                env ARGOCD_EXTENSION_PROXY_SAMPLE=true
  --queries     JSON or YAML file of PromQL templates per kind (replaces those kinds'
                defaults)                      env ARGOCD_EXTENSION_PROXY_QUERIES
  --timeout     seconds per Prometheus request (default 10)
                env ARGOCD_EXTENSION_PROXY_PROMETHEUS_TIMEOUT
  --max-queries most queries in flight to Prometheus at once, over all requests
                (default ${DEFAULT_MAX_CONCURRENT})   env ARGOCD_EXTENSION_PROXY_PROMETHEUS_MAX_QUERIES
  --cache-mb    memory for history that can no longer change, in MiB; 0 turns the cache
                off (default ${DEFAULT_CACHE_BYTES / 1024 / 1024})   env ARGOCD_EXTENSION_PROXY_CACHE_MB
  --explore-url link from each metric to its query in Prometheus or Grafana, with
                {{query}}, {{queryJson}}, {{from}}, {{to}}, {{fromMs}}, {{toMs}},
                {{fromIso}}, {{toIso}}, {{range}}, {{step}}, e.g.
                'https://prometheus.example.com/graph?g0.expr={{query}}&g0.range_input={{range}}s&g0.end_input={{toIso}}&g0.tab=0'
                env ARGOCD_EXTENSION_PROXY_EXPLORE_URL
`;

export interface BackendArgs {
  host: string;
  port: number;
  prometheusUrl?: string;
  sample: boolean;
  queriesFile?: string;
  timeoutMs: number;
  maxQueries: number;
  cacheBytes: number;
  exploreUrl?: ExploreTemplate;
  help: boolean;
}

const FLAGS: Record<string, string> = {
  '--listen': 'ARGOCD_EXTENSION_PROXY_LISTEN',
  '--prometheus': 'ARGOCD_EXTENSION_PROXY_PROMETHEUS_URL',
  '--queries': 'ARGOCD_EXTENSION_PROXY_QUERIES',
  '--timeout': 'ARGOCD_EXTENSION_PROXY_PROMETHEUS_TIMEOUT',
  '--explore-url': 'ARGOCD_EXTENSION_PROXY_EXPLORE_URL',
  '--max-queries': 'ARGOCD_EXTENSION_PROXY_PROMETHEUS_MAX_QUERIES',
  '--cache-mb': 'ARGOCD_EXTENSION_PROXY_CACHE_MB',
};

/** Parses the arguments; a flag wins over its environment variable. */
export function parseBackendArgs(argv: readonly string[], env: NodeJS.ProcessEnv): BackendArgs {
  const values = new Map<string, string>();
  for (const [flag, variable] of Object.entries(FLAGS)) {
    const value = env[variable];
    if (value) values.set(flag, value);
  }
  let sample = env.ARGOCD_EXTENSION_PROXY_SAMPLE === 'true';
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--sample') sample = true;
    else if (flag in FLAGS) {
      if (inline !== undefined) values.set(flag, inline);
      else if (i + 1 < argv.length) values.set(flag, argv[++i]);
      else throw new UsageError(`flag ${flag} needs a value`);
    } else throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
  }
  const problems: string[] = [];
  const listen = values.get('--listen') ?? '';
  const match = /^(.*):(\d{1,5})$/.exec(listen);
  if (!match || Number(match[2]) > 65535) problems.push('--listen must be HOST:PORT');
  const prometheusUrl = values.get('--prometheus');
  if (prometheusUrl && sample) problems.push('give either --prometheus or --sample, not both');
  if (!prometheusUrl && !sample && !help) problems.push('give --prometheus URL or --sample');
  const timeoutText = values.get('--timeout') ?? '10';
  const timeout = Number(timeoutText);
  if (!(timeout > 0) || !Number.isFinite(timeout)) {
    problems.push(`--timeout must be a positive number of seconds, got ${timeoutText}`);
  }
  const maxQueriesText = values.get('--max-queries') ?? String(DEFAULT_MAX_CONCURRENT);
  const maxQueries = Number(maxQueriesText);
  if (!/^\d{1,4}$/.test(maxQueriesText) || maxQueries < 1) {
    problems.push(`--max-queries must be a whole number from 1 to 9999, got ${maxQueriesText}`);
  }
  const cacheText = values.get('--cache-mb') ?? String(DEFAULT_CACHE_BYTES / 1024 / 1024);
  if (!/^\d{1,5}$/.test(cacheText)) {
    problems.push(
      `--cache-mb must be a whole number of MiB (0 turns the cache off), got ${cacheText}`,
    );
  }
  let exploreUrl: ExploreTemplate | undefined;
  const exploreText = values.get('--explore-url');
  if (exploreText) {
    try {
      exploreUrl = parseExploreTemplate(exploreText);
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (problems.length > 0 && !help) throw new UsageError(problems.join('; '));
  return {
    host: (match?.[1] ?? '').replace(/^\[(.*)\]$/, '$1'),
    port: Number(match?.[2] ?? 0),
    prometheusUrl,
    sample,
    queriesFile: values.get('--queries'),
    timeoutMs: timeout * 1000,
    maxQueries,
    cacheBytes: Number(cacheText) * 1024 * 1024,
    exploreUrl,
    help,
  };
}

/** Entry point for bin/anomaly-backend: serves until SIGTERM/SIGINT. Returns an exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let args: BackendArgs;
  let source: MetricSource;
  let queries = DEFAULT_QUERIES;
  try {
    args = parseBackendArgs(argv, process.env);
    if (args.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    const raw = args.sample
      ? new SampleSource()
      : new PrometheusSource({
          url: args.prometheusUrl as string,
          timeoutMs: args.timeoutMs,
          maxConcurrent: args.maxQueries,
        });
    source = new HistoryCache(raw, { maxBytes: args.cacheBytes });
    if (args.queriesFile) queries = loadMetricQueries(args.queriesFile);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`anomaly-backend: ${message}\n${err instanceof UsageError ? USAGE : ''}`);
    return 2;
  }
  const log = createJsonLogger((line) => process.stdout.write(line));
  const server = createAnomalyServer({ source, queries, log, exploreUrl: args.exploreUrl });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(args.port, args.host, resolve);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  log('info', 'listening', { address: `${host}:${address.port}`, source: source.kind });
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}
