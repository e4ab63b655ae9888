import { readConfigDir } from '../config/config-dir';
import { parseRbacConfigMap } from '../rbac/rbac-config';
import { createEnforcer } from '../rbac/enforcer';
import { ACTION_INVOKE, RESOURCE_EXTENSIONS } from '../rbac/invoke-permission';
import { FlagSpec, parseCommand, requireString, UsageError } from './flags';

export const CAN_FLAGS: FlagSpec[] = [
  {
    name: 'argocd-rbac-cm',
    kind: 'string',
    description: 'Directory where argocd-rbac-cm is mounted (one file per key).',
  },
  {
    name: 'groups',
    kind: 'list',
    description:
      "Comma-separated groups of the subject (as an SSO token's scopes claims carry them); repeatable.",
  },
];

const SYNOPSIS =
  'argocd-extension-proxy can SUBJECT extensions invoke NAME --argocd-rbac-cm DIR [--groups a,b]';
const SUMMARY =
  'Prints Yes or No (exit 0 or 1): would the sidecar let SUBJECT (with --groups) invoke\n' +
  'extension NAME? The same decision code as `serve`, like `argocd admin settings rbac can`.';

export async function runCan(argv: string[]): Promise<number> {
  const args = parseCommand(argv, {
    synopsis: SYNOPSIS,
    summary: SUMMARY,
    flags: CAN_FLAGS,
    positionals: true,
  });
  if (!args) return 0;
  const [subject, resource, action, name, ...extra] = args.positionals;
  if (!subject || !resource || !action || !name || extra.length > 0) {
    throw new UsageError('expected: SUBJECT extensions invoke NAME');
  }
  if (resource !== RESOURCE_EXTENSIONS || action !== ACTION_INVOKE) {
    throw new UsageError(
      `only "${RESOURCE_EXTENSIONS} ${ACTION_INVOKE}" can be checked, got "${resource} ${action}"`,
    );
  }
  const dir = requireString(args, 'argocd-rbac-cm');
  const parsed = await parseRbacConfigMap(await readConfigDir(dir));
  if (!parsed.config) {
    process.stderr.write(
      `argocd-extension-proxy: argocd-rbac-cm is invalid:\n  - ${parsed.problems.join('\n  - ')}\n`,
    );
    return 2;
  }
  const groups = ((args.flags.get('groups') as string[] | undefined) ?? [])
    .flatMap((g) => g.split(','))
    .map((g) => g.trim())
    .filter(Boolean);
  const enforcer = await createEnforcer(parsed.config);
  const allowed = enforcer.canInvoke({ subject, groups }, name);
  process.stdout.write(allowed ? 'Yes\n' : 'No\n');
  return allowed ? 0 : 1;
}
