/**
 * `argocd-extension-proxy delegates`: lists the delegate agents connected to one sidecar
 * replica, read from its admin port (`/delegates`). A short-lived client run beside the
 * sidecar; the agent itself is `delegate` (delegate-agent.ts).
 */
import { TunnelInfo } from '../delegate/sidecar/hub';
import { FlagSpec, parseCommand, requireString, UsageError } from './flags';

export const DELEGATES_FLAGS: FlagSpec[] = [
  {
    name: 'admin',
    kind: 'string',
    default: 'http://127.0.0.1:8091',
    description: "The sidecar's admin URL (its --admin-listen).",
  },
  { name: 'json', kind: 'boolean', default: 'false', description: 'Print the raw JSON.' },
];

const SYNOPSIS = 'argocd-extension-proxy delegates [--admin URL] [--json]';
const SUMMARY =
  'Lists the delegate agents connected to one sidecar replica: name, agent, address, since\n' +
  'when, requests in flight and bytes. Exit 0 when the list could be read.';

export async function runDelegates(argv: string[]): Promise<number> {
  const args = parseCommand(argv, { synopsis: SYNOPSIS, summary: SUMMARY, flags: DELEGATES_FLAGS });
  if (!args) return 0;
  let url: URL;
  try {
    url = new URL('/delegates', requireString(args, 'admin'));
  } catch {
    throw new UsageError('--admin must be a URL like http://127.0.0.1:8091');
  }
  let body: { delegates: TunnelInfo[] };
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = (await res.json()) as { delegates: TunnelInfo[] };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new Error(
      `cannot read ${url.href}: ${cause ?? (err instanceof Error ? err.message : String(err))}`,
    );
  }
  if (args.flags.get('json') === true) {
    process.stdout.write(JSON.stringify(body, null, 2) + '\n');
    return 0;
  }
  if (body.delegates.length === 0) {
    process.stdout.write('No delegate agent is connected to this sidecar.\n');
    return 0;
  }
  const rows = [
    ['NAME', 'AGENT', 'ADDRESS', 'CONNECTED', 'STREAMS', 'SENT', 'RECEIVED'],
    ...body.delegates.map((d) => [
      d.name,
      d.agent,
      d.remoteAddress,
      d.connectedAt,
      String(d.activeStreams),
      String(d.bytesSent),
      String(d.bytesReceived),
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const row of rows) {
    process.stdout.write(
      row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd() + '\n',
    );
  }
  return 0;
}
