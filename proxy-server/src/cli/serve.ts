import { readFileSync } from 'fs';
import { MAX_APPLICATION_CACHE_TTL_MS } from '../argocd/application-lookup';
import { createLogger } from '../logger';
import { normalizeRootPath } from '../proxy/extension-path';
import { ConfigLoadError } from '../server/config-manager';
import { Sidecar, SidecarOptions } from '../server/sidecar';
import {
  ARGOCD_API_FLAGS,
  CONFIG_DIR_FLAGS,
  durationFlag,
  FlagSpec,
  listenFlag,
  logLevelFlag,
  optionalString,
  parseCommand,
  ParsedArgs,
  requireString,
  UsageError,
} from './flags';

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export const SERVE_FLAGS: FlagSpec[] = [
  {
    name: 'listen',
    kind: 'string',
    default: '0.0.0.0:8090',
    description: 'Extension traffic (HOST:PORT).',
  },
  {
    name: 'admin-listen',
    kind: 'string',
    default: '0.0.0.0:8091',
    description: '/healthz, /readyz and /metrics (HOST:PORT).',
  },
  ...CONFIG_DIR_FLAGS,
  ...ARGOCD_API_FLAGS,
  {
    name: 'dex-server',
    kind: 'string',
    default: 'http://argocd-dex-server:5556',
    description:
      'Where Dex serves discovery and keys when dex.config is set (like argocd-server --dex-server).',
  },
  {
    name: 'rootpath',
    kind: 'string',
    description:
      "Argo CD's server.rootpath (e.g. /argocd): only <rootpath>/extensions/<name>/... is served, and delegates connect under it too. Unset: Argo CD's own env ARGOCD_SERVER_ROOTPATH, else none.",
  },
  {
    name: 'namespace',
    kind: 'string',
    description:
      "Namespace of Argo CD's control plane, sent as Argocd-Namespace (default: the pod's namespace, else argocd).",
  },
  {
    name: 'reload-interval',
    kind: 'string',
    default: '500ms',
    description:
      'How often the mounted directories are polled for changes (an inotify watch on each reports them at once; polling covers a directory that cannot be watched).',
  },
  {
    name: 'application-cache-ttl',
    kind: 'string',
    default: '5s',
    description:
      'How long an application check is reused for the same token and application (at most 60s: it bounds how long a session Argo CD has revoked keeps working).',
  },
  {
    name: 'shutdown-timeout',
    kind: 'string',
    default: '30s',
    description: 'How long SIGTERM waits for in-flight requests.',
  },
  {
    name: 'wait-for-valid-config',
    kind: 'boolean',
    default: 'false',
    description:
      'Keep running on an invalid configuration at start (503 until it is fixed) instead of exiting; for the argocd-server pod, whose readiness a crashing sidecar would take down.',
  },
  {
    name: 'header-timeout',
    kind: 'string',
    default: '30s',
    description: 'How long a client may take to send its request headers (slow clients are cut).',
  },
  {
    name: 'body-idle-timeout',
    kind: 'string',
    default: '60s',
    description:
      'How long a request body may pause before the request is cut (slow uploads that keep sending are never cut).',
  },
  {
    name: 'delegate-ping-interval',
    kind: 'string',
    default: '15s',
    description: 'How often delegate tunnels are pinged; one unanswered for as long is closed.',
  },
  {
    name: 'redis',
    kind: 'string',
    description:
      "Argo CD's Redis (HOST:PORT, e.g. argocd-redis:6379): replicas share delegate tunnels through it. Password: env REDIS_PASSWORD.",
  },
  {
    name: 'peer-listen',
    kind: 'string',
    default: '0.0.0.0:8092',
    description: 'With --redis: where other replicas relay requests for delegates connected here.',
  },
  {
    name: 'advertise-address',
    kind: 'string',
    description:
      'With --redis: HOST:PORT other replicas use to reach --peer-listen (default: $POD_IP and its port).',
  },
  {
    name: 'log-level',
    kind: 'string',
    default: 'info',
    description: 'debug, info, warn or error.',
  },
];

const SYNOPSIS =
  'argocd-extension-proxy serve --argocd-cm DIR --argocd-rbac-cm DIR --argocd-secret DIR [flags]';
const SUMMARY =
  'Runs the sidecar: authenticates Argo CD sessions, enforces `extensions, invoke, <name>`\n' +
  'from argocd-rbac-cm, checks the application, and proxies /extensions/<name>/ to its backend.';

export async function runServe(argv: string[]): Promise<number> {
  const args = parseCommand(argv, { synopsis: SYNOPSIS, summary: SUMMARY, flags: SERVE_FLAGS });
  if (!args) return 0;
  const level = logLevelFlag(args);
  const logger = createLogger({ level });
  const sidecar = new Sidecar({
    listen: listenFlag(args, 'listen'),
    adminListen: listenFlag(args, 'admin-listen'),
    sources: {
      argocdCmDir: requireString(args, 'argocd-cm'),
      argocdRbacCmDir: requireString(args, 'argocd-rbac-cm'),
      argocdSecretDir: requireString(args, 'argocd-secret'),
    },
    argocdServer: requireString(args, 'argocd-server'),
    argocdServerCaFile: optionalString(args, 'argocd-server-ca'),
    argocdServerInsecure: args.flags.get('argocd-server-insecure') === true,
    argocdTokenFile: optionalString(args, 'argocd-token-file'),
    dexServer: requireString(args, 'dex-server'),
    namespace: optionalString(args, 'namespace') ?? podNamespace(),
    rootPath: rootPathFlag(args),
    reloadIntervalMs: durationFlag(args, 'reload-interval'),
    applicationCacheTtlMs: applicationCacheTtl(args),
    shutdownTimeoutMs: durationFlag(args, 'shutdown-timeout'),
    delegatePingIntervalMs: durationFlag(args, 'delegate-ping-interval'),
    headersTimeoutMs: durationFlag(args, 'header-timeout'),
    bodyIdleTimeoutMs: durationFlag(args, 'body-idle-timeout'),
    waitForValidConfig: args.flags.get('wait-for-valid-config') === true,
    replicas: replicaFlags(args),
    logger,
  });
  try {
    await sidecar.start();
  } catch (err) {
    if (err instanceof ConfigLoadError) {
      logger.error('no valid configuration; not starting', { problems: err.problems });
      process.stderr.write(`argocd-extension-proxy: ${err.message}\n`);
      return 1;
    }
    const message = err instanceof Error ? err.message : String(err);
    logger.error('cannot start', { error: message });
    process.stderr.write(`argocd-extension-proxy: cannot start: ${message}\n`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('signal received', { signal });
      sidecar.shutdown().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/** --application-cache-ttl, capped: Argo CD itself checks a session on every request. */
function applicationCacheTtl(args: ParsedArgs): number {
  const ms = durationFlag(args, 'application-cache-ttl');
  if (ms > MAX_APPLICATION_CACHE_TTL_MS) {
    throw new UsageError(
      `--application-cache-ttl must be at most ${MAX_APPLICATION_CACHE_TTL_MS / 1000}s: ` +
        'a session Argo CD has revoked (logout, disabled account) keeps working here that long',
    );
  }
  return ms;
}

/**
 * --rootpath, else argocd-server's own ARGOCD_SERVER_ROOTPATH (the manifest maps
 * argocd-cmd-params-cm `server.rootpath` to it, as Argo CD's does), normalised as Argo CD
 * normalises it.
 */
export function rootPathFlag(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): string {
  const given = args.flags.get('rootpath');
  const text = typeof given === 'string' ? given : (env.ARGOCD_SERVER_ROOTPATH ?? '');
  try {
    return normalizeRootPath(text);
  } catch (err) {
    const from = typeof given === 'string' ? '--rootpath' : 'ARGOCD_SERVER_ROOTPATH';
    throw new UsageError(`${from} ${(err as Error).message}`);
  }
}

/** --redis and friends, checked together: relaying needs all three to make sense. */
function replicaFlags(args: ParsedArgs): SidecarOptions['replicas'] {
  const redis = optionalString(args, 'redis');
  if (!redis) return undefined;
  if (!/^(?:\[[^\]]+\]|[^:]+):\d{1,5}$/.test(redis)) {
    throw new UsageError(`--redis must be HOST:PORT, got "${redis}"`);
  }
  const peerListen = listenFlag(args, 'peer-listen');
  let advertise = optionalString(args, 'advertise-address');
  if (!advertise) {
    const podIp = process.env.POD_IP;
    if (!podIp) {
      throw new UsageError(
        '--redis needs --advertise-address HOST:PORT (or env POD_IP from the downward API)',
      );
    }
    advertise = `${podIp.includes(':') ? `[${podIp}]` : podIp}:${peerListen.port}`;
  }
  if (!/^(?:\[[^\]]+\]|[^:]+):\d{1,5}$/.test(advertise)) {
    throw new UsageError(`--advertise-address must be HOST:PORT, got "${advertise}"`);
  }
  // Argo CD's own variable for its Redis password (Secret argocd-redis, key auth).
  const redisPassword =
    process.env.ARGOCD_EXTENSION_PROXY_REDIS_PASSWORD || process.env.REDIS_PASSWORD;
  return { redis, redisPassword, peerListen, advertise };
}

function podNamespace(): string {
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim() || 'argocd';
  } catch {
    return 'argocd';
  }
}
