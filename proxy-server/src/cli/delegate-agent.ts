/**
 * `argocd-extension-proxy delegate`: the delegate agent process, run inside a private
 * network (delegate/agent/). Its listing counterpart on the sidecar's side is
 * `delegates` (delegates-list.ts).
 */
import { readFileSync } from 'fs';
import { AddressInfo } from 'net';
import { DelegateAgent } from '../delegate/agent/agent';
import { AllowedHost, parseAllowedHost } from '../delegate/agent/allowlist';
import { SecretHeaders } from '../delegate/agent/secret-headers';
import { createLogger } from '../logger';
import { createAdminServer } from '../server/admin-server';
import {
  durationFlag,
  FlagSpec,
  listenFlag,
  logLevelFlag,
  optionalString,
  parseCommand,
  requireString,
  UsageError,
} from './flags';
import { DELEGATE_NAME } from '../config/extension-config-sidecar';

export const DELEGATE_FLAGS: FlagSpec[] = [
  {
    name: 'server',
    kind: 'string',
    description:
      "URL of the sidecar as seen from here: usually Argo CD's own URL (the tunnel rides its /extensions/ route).",
  },
  {
    name: 'name',
    kind: 'string',
    description: 'Delegate name; services route through it with `delegate: NAME`.',
  },
  {
    name: 'token-file',
    kind: 'string',
    description:
      'File holding the token (the same value as argocd-secret key delegate.NAME.token); re-read on every reconnect.',
  },
  {
    name: 'allow',
    kind: 'list',
    description:
      'HOST[:PORT] this agent may reach (repeatable or comma-separated); without a port, any port of that host.',
  },
  {
    name: 'secret-dir',
    kind: 'string',
    description:
      'Headers to add: DIR/<Header-Name> for every request, DIR/<host>/<Header-Name> for one host.',
  },
  {
    name: 'server-ca',
    kind: 'string',
    description: "PEM file that signs the sidecar's (Argo CD's) certificate, besides public CAs.",
  },
  {
    name: 'backend-ca',
    kind: 'string',
    description: "PEM file that signs https backends' certificates, besides public CAs.",
  },
  {
    name: 'admin-listen',
    kind: 'string',
    default: '0.0.0.0:8091',
    description: '/healthz, /readyz (ready while the tunnel is up) and /metrics (HOST:PORT).',
  },
  {
    name: 'ping-interval',
    kind: 'string',
    default: '15s',
    description: 'Tunnel keep-alive ping; an unanswered ping reconnects.',
  },
  {
    name: 'reconnect-max',
    kind: 'string',
    default: '30s',
    description: 'Longest wait between reconnection attempts (jittered exponential backoff).',
  },
  {
    name: 'shutdown-timeout',
    kind: 'string',
    default: '30s',
    description: 'How long SIGTERM waits for requests in flight.',
  },
  {
    name: 'log-level',
    kind: 'string',
    default: 'info',
    description: 'debug, info, warn or error.',
  },
];

const SYNOPSIS =
  'argocd-extension-proxy delegate --server URL --name NAME --token-file F --allow HOST[:PORT]... [flags]';
const SUMMARY =
  'Runs a delegate agent inside a private network: dials out to the sidecar (through\n' +
  'HTTPS_PROXY when set), and carries its requests to the allowed hosts only, adding headers\n' +
  'from --secret-dir so those credentials never leave this network.';

export async function runDelegate(argv: string[]): Promise<number> {
  const args = parseCommand(argv, { synopsis: SYNOPSIS, summary: SUMMARY, flags: DELEGATE_FLAGS });
  if (!args) return 0;
  const server = parseServerUrl(requireString(args, 'server'));
  const name = requireString(args, 'name');
  if (!DELEGATE_NAME.test(name)) throw new UsageError('--name must match ^[A-Za-z0-9-_]+$');
  const allow = parseAllowList((args.flags.get('allow') as string[] | undefined) ?? []);
  const level = logLevelFlag(args);
  const tokenFile = requireString(args, 'token-file');
  const readToken = () => {
    const token = readFileSync(tokenFile, 'utf8').trim();
    if (token === '') throw new Error(`${tokenFile} is empty`);
    return token;
  };
  readTokenOrFail(readToken, tokenFile);
  const logger = createLogger({ level });
  const secretDir = optionalString(args, 'secret-dir');
  let secretHeaders: SecretHeaders | undefined;
  if (secretDir) {
    try {
      secretHeaders = new SecretHeaders(secretDir, (message) =>
        logger.error('cannot re-read the secret directory; keeping the last good one', {
          error: message,
        }),
      );
    } catch (err) {
      throw new UsageError(`--secret-dir: ${err instanceof Error ? err.message : String(err)}`);
    }
    secretHeaders.watch(5_000);
  }
  // SECURITY: neither the token nor a secret header value may ever reach a log line.
  logger.setSecrets([readToken(), ...(secretHeaders?.values() ?? [])]);
  const agent = new DelegateAgent({
    server,
    name,
    readToken,
    allow,
    secretHeaders,
    serverCa: readOptionalFile(optionalString(args, 'server-ca'), '--server-ca'),
    backendCa: readOptionalFile(optionalString(args, 'backend-ca'), '--backend-ca'),
    pingIntervalMs: durationFlag(args, 'ping-interval'),
    reconnectMinMs: 500,
    reconnectMaxMs: Math.max(500, durationFlag(args, 'reconnect-max')),
    env: process.env,
    logger,
  });
  const admin = createAdminServer(agent.metrics, { ready: () => agent.connected });
  const at = listenFlag(args, 'admin-listen');
  await new Promise<void>((resolve, reject) => {
    admin.once('error', reject);
    admin.listen(at.port, at.host, () => resolve());
  });
  const address = admin.address() as AddressInfo;
  logger.info('delegate agent starting', {
    delegate: name,
    server: server.origin,
    allow: allow.map((a) => (a.port ? `${a.host}:${a.port}` : a.host)),
    admin: `${address.address}:${address.port}`,
  });
  agent.start();
  const shutdownMs = durationFlag(args, 'shutdown-timeout');
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('signal received', { signal });
      secretHeaders?.stop();
      void agent.stop(shutdownMs).then(() => {
        admin.close();
        admin.closeAllConnections();
        logger.info('stopped');
        resolve(0);
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

function parseServerUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--server must be a URL like https://argocd.example.com, got "${text}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError('--server must be an http or https URL');
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new UsageError('--server must not carry credentials, a query or a fragment');
  }
  return url;
}

function parseAllowList(values: string[]): AllowedHost[] {
  const entries = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  if (entries.length === 0) {
    throw new UsageError(
      'at least one --allow HOST[:PORT] is required (the agent reaches nothing else)',
    );
  }
  return entries.map((entry) => {
    const parsed = parseAllowedHost(entry);
    if (!parsed) throw new UsageError(`--allow must be HOST or HOST:PORT, got "${entry}"`);
    return parsed;
  });
}

function readTokenOrFail(readToken: () => string, file: string): void {
  try {
    readToken();
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : '');
    throw new UsageError(`--token-file ${file}: cannot read a token (${reason})`);
  }
}

function readOptionalFile(path: string | undefined, flag: string): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
}
