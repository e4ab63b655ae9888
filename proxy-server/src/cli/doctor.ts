import { formatFinding, runChecks } from '../doctor/checks';
import {
  ARGOCD_API_FLAGS,
  CONFIG_DIR_FLAGS,
  durationFlag,
  FlagSpec,
  optionalString,
  parseCommand,
  requireString,
} from './flags';

export const DOCTOR_FLAGS: FlagSpec[] = [
  ...CONFIG_DIR_FLAGS,
  {
    name: 'no-network',
    kind: 'boolean',
    default: 'false',
    description: 'Do not try to reach the backends or the Argo CD API.',
  },
  {
    name: 'timeout',
    kind: 'string',
    default: '2s',
    description:
      'How long each backend (and each Argo CD API call) may take to answer the reachability check.',
  },
  {
    name: 'dex-server',
    kind: 'string',
    default: 'http://argocd-dex-server:5556',
    description: 'As for serve: where Dex is, when dex.config is set.',
  },
  // As for serve: the destination check's account is checked with the same flags.
  ...ARGOCD_API_FLAGS,
];

const SYNOPSIS =
  'argocd-extension-proxy doctor --argocd-cm DIR --argocd-rbac-cm DIR --argocd-secret DIR [--no-network]';
const SUMMARY =
  'Checks a configuration as the sidecar would load it and prints one line per finding:\n' +
  '"OK|WARN|ERROR area: message — fix: ...": extension config, secret references, SSO,\n' +
  'policy syntax, who can invoke each extension (and grants to everyone, or to no one),\n' +
  "whether each backend answers, and the extension proxy's Argo CD account (its token,\n" +
  'argocd-cm accounts.<name>, its projects/clusters grants, and whether the API accepts it).\n' +
  'Exit 0 without errors, 1 with errors, 2 on usage errors.';

export async function runDoctor(argv: string[]): Promise<number> {
  const args = parseCommand(argv, { synopsis: SYNOPSIS, summary: SUMMARY, flags: DOCTOR_FLAGS });
  if (!args) return 0;
  const findings = await runChecks({
    argocdCmDir: requireString(args, 'argocd-cm'),
    argocdRbacCmDir: requireString(args, 'argocd-rbac-cm'),
    argocdSecretDir: requireString(args, 'argocd-secret'),
    noNetwork: args.flags.get('no-network') === true,
    timeoutMs: durationFlag(args, 'timeout'),
    dexServer: requireString(args, 'dex-server'),
    argocd: {
      connection: {
        baseUrl: requireString(args, 'argocd-server'),
        caFile: optionalString(args, 'argocd-server-ca'),
        insecureSkipVerify: args.flags.get('argocd-server-insecure') === true,
        timeoutMs: durationFlag(args, 'timeout'),
      },
      tokenFile: optionalString(args, 'argocd-token-file'),
    },
  });
  for (const finding of findings) process.stdout.write(formatFinding(finding) + '\n');
  const errors = findings.filter((f) => f.level === 'ERROR').length;
  const warnings = findings.filter((f) => f.level === 'WARN').length;
  process.stdout.write(`\n${errors} error(s), ${warnings} warning(s)\n`);
  return errors > 0 ? 1 : 0;
}
