/**
 * `npm start`: the whole thing on loopback, in one command — the sidecar on the example
 * configuration, the anomaly backend on its sample data, a stand-in for the Argo CD API,
 * and the development host page (it stands in for Argo CD's UI) with the Anomalies tab and
 * a login page that issues real local session tokens. The browser talks to one origin, as
 * behind Argo CD's Ingress: /extensions/ goes to the sidecar. Ctrl-C stops everything.
 *
 * `DEMO_PORTS=ephemeral` picks free ports (tests); by default the ports are fixed and a
 * port in use is reported clearly.
 */
import { ChildProcess, spawn } from 'child_process';
import { readFileSync } from 'fs';
import { join } from 'path';
import { FakeArgoCD, guestbook } from '../test/helpers/fake-argocd';
import { signLocalToken } from '../test/helpers/local-tokens';
import { freePort } from '../test/helpers/processes';
import { REPO_ROOT, SidecarProcess } from '../test/helpers/sidecar-process';

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
const BACKEND_BIN = join(REPO_ROOT, 'backends', 'anomaly-detection', 'bin', 'anomaly-backend');
const USERS = [
  { name: 'alice', note: '— may invoke the Anomalies extension: sees the tab with data' },
  { name: 'bob', note: '— may read the application, not invoke the extension: sees the 403' },
];

/** The anomaly backend on sample data; resolves once it listens. */
function startAnomalyBackend(port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [BACKEND_BIN, '--listen', `127.0.0.1:${port}`, '--sample'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      out += d;
      if (out.includes('"msg":"listening"')) {
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve(child);
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`the anomaly backend exited (${code}) — is port ${port} free?\n${out}`)),
    );
  });
}

async function main(): Promise<void> {
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
    const backend = await startAnomalyBackend(ports.backend);
    stoppers.push(
      () =>
        new Promise((r) => {
          if (backend.exitCode !== null) return r(undefined);
          backend.once('exit', r);
          backend.kill('SIGTERM');
        }),
    );
    const argocd = new FakeArgoCD(secret);
    argocd.setApplications([guestbook(['alice', 'bob', 'admin'], 'guestbook')]);
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
    const token = (user: string) => signLocalToken({ sub: `${user}:login` }, { secret });
    const host = await startDevServer({
      port: ports.host,
      extensionsUpstream: sidecar.url,
      login: { users: USERS, token },
    });
    stoppers.push(() => host.close());
    process.stderr.write(
      `\nargocd-extension-proxy demo is running.\n\n` +
        `  Open ${host.url}/login and sign in as one of:\n` +
        USERS.map((u) => `    ${u.name} ${u.note}\n`).join('') +
        `  (the page stands in for Argo CD's UI: open the guestbook-ui Deployment's Anomalies tab;\n` +
        `   ?react=16 for Argo CD <= 3.4)\n\n` +
        `  sidecar        ${sidecar.url} (admin ${sidecar.adminUrl}/metrics)\n` +
        `  anomaly backend http://127.0.0.1:${ports.backend} (sample data)\n` +
        `  Argo CD API    ${argocd.url} (stand-in)\n\n` +
        `Press Ctrl-C to stop.\n`,
    );
    process.stdout.write(`DEMO_URL=${host.url}\n`);
  } catch (err) {
    process.stderr.write(`npm start: ${(err as Error).message}\n`);
    await stop(1);
    return;
  }
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
}

void main();
