import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { basename, join, resolve } from 'path';
import { FlagSpec, optionalString, parseCommand, requireString, UsageError } from './flags';

/** The image's copy of the released tar (Dockerfile: WORKDIR /app, `extension/`). */
const IMAGE_TAR = resolve(__dirname, '../../../../extension/extension-anomaly.tar');

/** Where the tar puts the bundle, under the extensions directory. */
export const BUNDLE_DIR = 'resources/extension-anomaly.js';
/**
 * The settings script beside the bundle. argocd-server concatenates the files it finds in
 * filepath.Walk's (lexical) order, and `extension-` sorts before the bundle's `extensions-`,
 * so the settings are defined when the bundle registers its tabs.
 */
export const SETTINGS_FILE = 'extension-anomaly-settings.js';

export const INSTALL_EXTENSION_FLAGS: FlagSpec[] = [
  {
    name: 'to',
    kind: 'string',
    description: "Argo CD's extensions directory (argocd-server reads /tmp/extensions/).",
  },
  {
    name: 'from',
    kind: 'string',
    default: IMAGE_TAR,
    description: 'The extension tar; its sha256 is checked against the .sha256 file beside it.',
  },
  {
    name: 'tab-kinds',
    kind: 'list',
    description:
      'Comma-separated group/Kind pairs that get the Anomalies tab (a Kind alone for the ' +
      'core group), e.g. apps/Deployment,Pod; default: the kinds the backend answers for.',
  },
];

const SYNOPSIS =
  'argocd-extension-proxy install-extension --to DIR [--from TAR] [--tab-kinds apps/Deployment,Pod]';
const SUMMARY =
  "Unpacks the Anomalies extension into Argo CD's extensions directory (the init container\n" +
  "of the Component runs it from the project's own image: nothing is downloaded).";

const GROUP = /^(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*)?$/;
const KIND = /^[A-Z][A-Za-z0-9]{0,62}$/;

/** `apps/Deployment` or `Pod` (core group) → `{group, kind}`; a usage error names the bad one. */
export function parseTabKinds(values: readonly string[]): Array<{ group: string; kind: string }> {
  const kinds = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean)
    .map((pair) => {
      const slash = pair.lastIndexOf('/');
      const group = slash === -1 ? '' : pair.slice(0, slash);
      const kind = pair.slice(slash + 1);
      if (!GROUP.test(group) || !KIND.test(kind)) {
        throw new UsageError(
          `--tab-kinds: "${pair}" is not group/Kind (e.g. apps/Deployment, or Pod for the core group)`,
        );
      }
      return { group, kind };
    });
  if (kinds.length === 0) throw new UsageError('--tab-kinds: no kinds given');
  if (kinds.length > 50) throw new UsageError('--tab-kinds: at most 50 kinds');
  return kinds;
}

/** The tar's sha256 against `<tar>.sha256` (sha256sum format): the image's files are intact. */
function verifyChecksum(tar: string): string {
  const sumFile = `${tar}.sha256`;
  if (!existsSync(tar)) throw new Error(`no extension tar at ${tar}`);
  if (!existsSync(sumFile)) throw new Error(`no checksum file at ${sumFile}`);
  const expected = /^([0-9a-f]{64})\s/.exec(readFileSync(sumFile, 'utf8'))?.[1];
  const actual = createHash('sha256').update(readFileSync(tar)).digest('hex');
  if (expected !== actual) {
    throw new Error(`${basename(tar)} does not match ${basename(sumFile)}: not installed`);
  }
  return actual;
}

export async function runInstallExtension(argv: string[]): Promise<number> {
  const args = parseCommand(argv, {
    synopsis: SYNOPSIS,
    summary: SUMMARY,
    flags: INSTALL_EXTENSION_FLAGS,
  });
  if (!args) return 0;
  const to = requireString(args, 'to');
  const from = optionalString(args, 'from') ?? IMAGE_TAR;
  const tabKinds = args.flags.get('tab-kinds') as string[] | undefined;
  const kinds = tabKinds ? parseTabKinds(tabKinds) : undefined;
  const sha256 = verifyChecksum(from);
  if (!existsSync(to)) throw new UsageError(`--to: no directory ${to}`);
  // GNU tar from the image's Debian base: the same extraction argocd-extension-installer does.
  execFileSync('tar', ['-xf', from, '-C', to], { stdio: ['ignore', 'inherit', 'inherit'] });
  const settings = join(to, BUNDLE_DIR, SETTINGS_FILE);
  if (kinds) {
    writeFileSync(
      settings,
      `window.argocdExtensionAnomaly = Object.freeze(${JSON.stringify({ kinds })});\n`,
    );
  } else {
    // The directory outlives a container restart: no settings from an earlier run.
    rmSync(settings, { force: true });
  }
  process.stdout.write(
    `installed ${basename(from)} (sha256 ${sha256}) into ${to}\n` +
      `Anomalies tab on: ${
        kinds
          ? kinds.map((k) => (k.group ? `${k.group}/${k.kind}` : k.kind)).join(', ')
          : 'the default kinds'
      }\n`,
  );
  return 0;
}
