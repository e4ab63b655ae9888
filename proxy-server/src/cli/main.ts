import { ConfigDirError } from '../config/config-dir';
import { runCan } from './can';
import { runDelegate } from './delegate';
import { runDelegates } from './delegates';
import { runDoctor } from './doctor';
import { runInstallExtension } from './install-extension';
import { UsageError } from './flags';
import { applyRuntimeV8Flags } from '../node-flags';
import { runServe } from './serve';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; summary: string }> = {
  serve: { run: runServe, summary: 'Run the sidecar in front of extension backends.' },
  can: {
    run: runCan,
    summary: 'Check whether a subject may invoke an extension (exit 0 yes, 1 no).',
  },
  delegate: {
    run: runDelegate,
    summary: 'Run a delegate agent: dial out to the sidecar and carry its requests.',
  },
  delegates: { run: runDelegates, summary: 'List the delegate agents connected to a sidecar.' },
  doctor: { run: runDoctor, summary: 'Check a configuration and print one line per finding.' },
  'install-extension': {
    run: runInstallExtension,
    summary: "Unpack the Anomalies extension into Argo CD's extensions directory.",
  },
};

const USAGE =
  'Usage: argocd-extension-proxy COMMAND [flags]\n\nCommands:\n' +
  Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(17)} ${c.summary}`)
    .join('\n') +
  '\n\nRun `argocd-extension-proxy COMMAND --help` for the flags of a command.\n';

/** Entry point of the executable: picks the command, maps errors to exit codes. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`argocd-extension-proxy: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  applyRuntimeV8Flags();
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(
        `argocd-extension-proxy ${name}: ${err.message}\nRun \`argocd-extension-proxy ${name} --help\` for usage.\n`,
      );
      return 2;
    }
    if (err instanceof ConfigDirError) {
      process.stderr.write(`argocd-extension-proxy ${name}: ${err.message}\n`);
      return 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`argocd-extension-proxy ${name}: ${message}\n`);
    return 1;
  }
}
