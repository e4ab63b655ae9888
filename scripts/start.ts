/**
 * `npm start`: the whole thing on loopback, in one command — the sidecar on the example
 * configuration, the anomaly backend on its sample data, a stand-in for the Argo CD API,
 * and the development host page (it stands in for Argo CD's UI) with the Anomalies tab and
 * a login page that issues real local session tokens. The browser talks to one origin, as
 * behind Argo CD's Ingress: /extensions/ goes to the sidecar. Ctrl-C stops everything.
 *
 * `npm start -- --argocd-ui DIR` shows the tab in Argo CD's own web UI instead: DIR is a
 * build of Argo CD's ui/ (ui/dist/app), served with the stand-in answering its API, the
 * extension installed from dist/extension/extension-anomaly.tar as the installer does, and
 * Argo CD's own login page (local users and passwords).
 *
 * `DEMO_PORTS=ephemeral` picks free ports (tests); by default the ports are fixed and a
 * port in use is reported clearly.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { AnomalyBackendProcess } from '../test/helpers/anomaly-backend-process';
import { FakeArgoCD, guestbook } from '../test/helpers/fake-argocd';
import { signLocalToken } from '../test/helpers/local-tokens';
import { freePort } from '../test/helpers/processes';
import { REPO_ROOT, SidecarProcess } from '../test/helpers/sidecar-process';
import { installUiExtension, resourceTabUrl, startArgoCDUiHost } from './argocd-ui-host';

/** extension/dev/server.js (plain JS, shared with the browser tests). */
interface DevServer {
  url: string;
  close: () => Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startDevServer } = require(join(REPO_ROOT, 'extension', 'dev', 'server.js')) as {
  startDevServer: (options: {
    port: number;
    extensionsUpstream?: string;
    login?: { users: Array<{ name: string; note: string }>; token: (user: string) => string };
  }) => Promise<DevServer>;
};

const EXAMPLES = join(REPO_ROOT, 'proxy-server', 'examples');
const EXTENSION_TAR = join(REPO_ROOT, 'dist', 'extension', 'extension-anomaly.tar');
const USERS = [
  { name: 'alice', note: '— may invoke the Anomalies extension: sees the tab with data' },
  { name: 'bob', note: '— may read the application, not invoke the extension: sees the 403' },
];
/** The password of every demo user on Argo CD's own login page (--argocd-ui). */
const DEMO_PASSWORD = 'demo';

/** `--argocd-ui DIR` (or `--argocd-ui=DIR`): the Argo CD UI build to run the demo in. */
function parseArgs(argv: string[]): { argocdUi?: string } {
  const args: { argocdUi?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    if (flag !== '--argocd-ui')
      throw new Error(`unknown argument ${argv[i]}; usage: npm start [-- --argocd-ui DIR]`);
    const value = inline ?? argv[++i];
    if (!value) throw new Error('--argocd-ui needs the directory of a built Argo CD UI');
    args.argocdUi = resolve(value);
  }
  if (args.argocdUi && !existsSync(join(args.argocdUi, 'index.html'))) {
    throw new Error(
      `${args.argocdUi} has no index.html: give the folder of a built Argo CD UI (ui/dist/app)`,
    );
  }
  return args;
}

/** The release a UI build folder is named after (…/v3.5.1/dist), for the sidebar. */
function versionOf(dir: string): string {
  const match = /\/(v\d+\.\d+\.\d+[^/]*)\//.exec(`${dir}/`);
  return `${match ? match[1] : 'unknown'}+stand-in`;
}

async function main(): Promise<void> {
  let args: { argocdUi?: string };
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`npm start: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const ephemeral = process.env.DEMO_PORTS === 'ephemeral';
  const port = async (fixed: number) => (ephemeral ? freePort() : fixed);
  const ports = {
    backend: 18081, // the example extension.config points here
    argocd: await port(18080),
    sidecar: await port(8090),
    admin: await port(8091),
    host: await port(8083),
  };
  const secret = readFileSync(join(EXAMPLES, 'argocd-secret', 'server.secretkey'), 'utf8');
  const stoppers: Array<() => unknown> = [];
  const stop = async (code: number) => {
    for (const s of stoppers.reverse()) await s();
    process.exit(code);
  };
  try {
    const backend = new AnomalyBackendProcess({
      listen: `127.0.0.1:${ports.backend}`,
      echoStderr: true,
      discardLogAfterStart: true,
    });
    await backend.start();
    stoppers.push(() => backend.stop());
    const argocd = new FakeArgoCD(secret);
    argocd.setApplications([guestbook(['alice', 'bob', 'admin'], 'guestbook')]);
    for (const user of [...USERS.map((u) => u.name), 'admin']) {
      argocd.localUsers.set(user, DEMO_PASSWORD);
    }
    await argocd.start(ports.argocd);
    stoppers.push(() => argocd.stop());
    const sidecar = new SidecarProcess(
      [
        '--argocd-cm',
        join(EXAMPLES, 'argocd-cm'),
        '--argocd-rbac-cm',
        join(EXAMPLES, 'argocd-rbac-cm'),
        '--argocd-secret',
        join(EXAMPLES, 'argocd-secret'),
        // The account of argocd-cm/accounts.extension-proxy, for the destination check.
        ...argocd.sidecarFlags(),
      ],
      {},
      {
        listen: `127.0.0.1:${ports.sidecar}`,
        adminListen: `127.0.0.1:${ports.admin}`,
        echo: !ephemeral,
      },
    );
    await sidecar.start();
    stoppers.push(() => sidecar.stop());
    let url: string;
    if (args.argocdUi) {
      // Argo CD's /tmp/extensions/, filled as the argocd-extension-installer does.
      const extensionsDir = mkdtempSync(join(tmpdir(), 'argocd-extensions-'));
      stoppers.push(() => rmSync(extensionsDir, { recursive: true, force: true }));
      installUiExtension(EXTENSION_TAR, extensionsDir);
      const host = await startArgoCDUiHost({
        dist: args.argocdUi,
        argocd,
        extensionsDir,
        extensionsUpstream: sidecar.url,
        port: ports.host,
        version: versionOf(args.argocdUi),
      });
      stoppers.push(() => host.close());
      url = host.origin;
      const tab = resourceTabUrl(
        host.baseUrl,
        { namespace: 'argocd', name: 'guestbook' },
        { group: 'apps', kind: 'Deployment', namespace: 'guestbook', name: 'guestbook-ui' },
        'extension-0',
      );
      process.stderr.write(
        `\nargocd-extension-proxy demo is running in Argo CD's UI (${args.argocdUi}).\n\n` +
          `  Open ${tab}\n` +
          `  (the guestbook-ui Deployment's Anomalies tab) and log in on Argo CD's login page as\n` +
          USERS.map((u) => `    ${u.name} ${u.note}\n`).join('') +
          `  password "${DEMO_PASSWORD}" for both (Log out: top right of the Applications page).\n\n`,
      );
    } else {
      const token = (user: string) => signLocalToken({ sub: `${user}:login` }, { secret });
      const host = await startDevServer({
        port: ports.host,
        extensionsUpstream: sidecar.url,
        login: { users: USERS, token },
      });
      stoppers.push(() => host.close());
      url = host.url;
      process.stderr.write(
        `\nargocd-extension-proxy demo is running.\n\n` +
          `  Open ${host.url}/login and sign in as one of:\n` +
          USERS.map((u) => `    ${u.name} ${u.note}\n`).join('') +
          `  (the page stands in for Argo CD's UI: open the guestbook-ui Deployment's Anomalies tab;\n` +
          `   ?react=16 for Argo CD <= 3.4; npm start -- --argocd-ui DIR runs it in a build of\n` +
          `   Argo CD's own UI)\n\n`,
      );
    }
    process.stderr.write(
      `  sidecar        ${sidecar.url} (admin ${sidecar.adminUrl}/metrics)\n` +
        `  anomaly backend ${backend.url} (sample data)\n` +
        `  Argo CD API    ${argocd.url} (stand-in)\n\n` +
        `Press Ctrl-C to stop.\n`,
    );
    process.stdout.write(`DEMO_URL=${url}\n`);
  } catch (err) {
    process.stderr.write(`npm start: ${(err as Error).message}\n`);
    await stop(1);
    return;
  }
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
}

void main();
