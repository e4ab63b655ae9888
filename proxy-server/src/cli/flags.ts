import { parseGoDuration } from '../config/duration';
import { LogLevel } from '../logger';

/** A command-line flag; every flag can also come from `ARGOCD_EXTENSION_PROXY_<FLAG>`. */
export interface FlagSpec {
  name: string;
  description: string;
  kind: 'string' | 'boolean' | 'list';
  default?: string;
}

/** Bad command-line input: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

export const ENV_PREFIX = 'ARGOCD_EXTENSION_PROXY_';

export function envName(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replace(/-/g, '_');
}

export interface ParsedArgs {
  flags: Map<string, string | boolean | string[]>;
  positionals: string[];
  help: boolean;
}

/**
 * Parses `--flag value`, `--flag=value` and boolean `--flag`; a flag not given falls back
 * to its environment variable, then to its default. Unknown flags are errors.
 */
export function parseArgs(
  argv: string[],
  specs: FlagSpec[],
  env: NodeJS.ProcessEnv = process.env,
): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const flags = new Map<string, string | boolean | string[]>();
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`unknown flag --${name}`);
    if (spec.kind === 'boolean') {
      const value = eq === -1 ? 'true' : arg.slice(eq + 1);
      flags.set(name, parseBoolean(value, `--${name}`));
      continue;
    }
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new UsageError(`flag --${name} needs a value`);
      value = argv[++i];
    }
    if (spec.kind === 'list') {
      const list = (flags.get(name) as string[] | undefined) ?? [];
      list.push(value);
      flags.set(name, list);
    } else flags.set(name, value);
  }
  for (const spec of specs) {
    if (flags.has(spec.name)) continue;
    const fromEnv = env[envName(spec.name)];
    if (fromEnv !== undefined && fromEnv !== '') {
      if (spec.kind === 'boolean') flags.set(spec.name, parseBoolean(fromEnv, envName(spec.name)));
      else if (spec.kind === 'list') flags.set(spec.name, fromEnv.split(/[\s,]+/).filter(Boolean));
      else flags.set(spec.name, fromEnv);
    } else if (spec.default !== undefined) {
      flags.set(spec.name, spec.kind === 'boolean' ? spec.default === 'true' : spec.default);
    }
  }
  return { flags, positionals, help };
}

function parseBoolean(value: string, where: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new UsageError(`${where} must be true or false, got "${value}"`);
}

/** Usage text for a command: synopsis, then one line per flag with its env var and default. */
export function formatUsage(synopsis: string, summary: string, specs: FlagSpec[]): string {
  const lines = [`Usage: ${synopsis}`, '', summary, '', 'Flags:'];
  for (const spec of specs) {
    const value = spec.kind === 'boolean' ? '' : ' VALUE';
    lines.push(`  --${spec.name}${value}`);
    lines.push(`      ${spec.description}`);
    const extra = [`env ${envName(spec.name)}`];
    if (spec.default !== undefined) extra.push(`default ${spec.default}`);
    lines.push(`      (${extra.join(', ')})`);
  }
  lines.push('  --help', '      Show this help.');
  return lines.join('\n') + '\n';
}

/** The three mounted directories, as `serve` and `doctor` take them. */
export const CONFIG_DIR_FLAGS: FlagSpec[] = [
  {
    name: 'argocd-cm',
    kind: 'string',
    description: 'Directory where argocd-cm is mounted (one file per key).',
  },
  {
    name: 'argocd-rbac-cm',
    kind: 'string',
    description: 'Directory where argocd-rbac-cm is mounted.',
  },
  {
    name: 'argocd-secret',
    kind: 'string',
    description: 'Directory where argocd-secret is mounted.',
  },
];

/**
 * How `serve` and `doctor` reach the Argo CD API: the server, its certificate, and the
 * extension proxy's own account token (for the destination check).
 */
export const ARGOCD_API_FLAGS: FlagSpec[] = [
  {
    name: 'argocd-server',
    kind: 'string',
    default: 'https://localhost:8080',
    description:
      "Argo CD API: applications are checked with the caller's token, projects and clusters with --argocd-token-file.",
  },
  {
    name: 'argocd-server-ca',
    kind: 'string',
    description:
      "PEM file that signs argocd-server's certificate (e.g. the mounted argocd-server-tls tls.crt).",
  },
  {
    name: 'argocd-server-insecure',
    kind: 'boolean',
    default: 'false',
    description:
      "Skip verifying argocd-server's certificate; only allowed for a loopback --argocd-server.",
  },
  {
    name: 'argocd-token-file',
    kind: 'string',
    description:
      "File holding the API token of the extension proxy's Argo CD account (e.g. the mounted Secret argocd-extension-proxy-api-token, key token), which may only `projects, get` and `clusters, get`: the destination check reads each application's project and Argo CD's clusters with it. Re-read when it changes. Without it every extension request gets 503.",
  },
];

/** A command's usage text and what it accepts besides flags. */
export interface CommandSpec {
  synopsis: string;
  summary: string;
  flags: FlagSpec[];
  /** Whether arguments other than flags are allowed (the command checks them). Default: no. */
  positionals?: boolean;
}

/**
 * The start of every command: parse its flags; on `--help` print its usage and return
 * undefined (the command then exits 0); refuse arguments it does not take.
 */
export function parseCommand(argv: string[], spec: CommandSpec): ParsedArgs | undefined {
  const args = parseArgs(argv, spec.flags);
  if (args.help) {
    process.stdout.write(formatUsage(spec.synopsis, spec.summary, spec.flags));
    return undefined;
  }
  if (!spec.positionals && args.positionals.length > 0)
    throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
  return args;
}

export function requireString(args: ParsedArgs, name: string): string {
  const value = args.flags.get(name);
  if (typeof value !== 'string' || value === '') {
    throw new UsageError(`--${name} is required (or set ${envName(name)})`);
  }
  return value;
}

export function optionalString(args: ParsedArgs, name: string): string | undefined {
  const value = args.flags.get(name);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function durationFlag(args: ParsedArgs, name: string): number {
  const text = requireString(args, name);
  const ms = parseGoDuration(text);
  if (ms === undefined) throw new UsageError(`--${name} must be a duration like 500ms or 30s`);
  return ms;
}

/** `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces). */
export function listenFlag(args: ParsedArgs, name: string): { host: string; port: number } {
  const text = requireString(args, name);
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new UsageError(`--${name} must be HOST:PORT, got "${text}"`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

/** `--log-level`: one of debug, info, warn, error. */
export function logLevelFlag(args: ParsedArgs): LogLevel {
  const level = requireString(args, 'log-level');
  if (!['debug', 'info', 'warn', 'error'].includes(level)) {
    throw new UsageError('--log-level must be debug, info, warn or error');
  }
  return level as LogLevel;
}
