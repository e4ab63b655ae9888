/**
 * `npm start`: the sidecar on the example configuration, in front of an echo backend, with
 * a stand-in for the Argo CD API. Prints ready-to-run requests for an allowed and a denied
 * user. Ctrl-C stops everything.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { EchoBackend } from '../test/helpers/echo-backend';
import { FakeArgoCD } from '../test/helpers/fake-argocd';
import { signLocalToken } from '../test/helpers/local-tokens';
import { REPO_ROOT, SidecarProcess } from '../test/helpers/sidecar-process';

/** extension/dev/server.js (plain JS, shared with the browser tests). */
interface DevServer {
  url: string;
  close: () => Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startDevServer } = require(join(REPO_ROOT, 'extension', 'dev', 'server.js')) as {
  startDevServer: (options: { port: number }) => Promise<DevServer>;
};

const EXAMPLES = join(__dirname, '..', '..', 'proxy-server', 'examples');

async function main(): Promise<void> {
  const secret = readFileSync(join(EXAMPLES, 'argocd-secret', 'server.secretkey'), 'utf8');
  const backend = new EchoBackend();
  const argocd = new FakeArgoCD(secret);
  argocd.setApplications([
    {
      name: 'guestbook',
      namespace: 'argocd',
      project: 'default',
      destination: { server: 'https://kubernetes.default.svc', namespace: 'guestbook' },
      readers: ['alice', 'bob', 'admin'],
    },
  ]);
  await backend.start(18081);
  await argocd.start(18080);
  const sidecar = new SidecarProcess(
    [
      '--argocd-cm',
      join(EXAMPLES, 'argocd-cm'),
      '--argocd-rbac-cm',
      join(EXAMPLES, 'argocd-rbac-cm'),
      '--argocd-secret',
      join(EXAMPLES, 'argocd-secret'),
      '--argocd-server',
      'http://127.0.0.1:18080',
    ],
    {},
    { listen: '127.0.0.1:8090', adminListen: '127.0.0.1:8091', echo: true },
  );
  await sidecar.start();
  const devHost = await startDevServer({ port: 8083 });
  const token = (user: string) => signLocalToken({ sub: `${user}:login` }, { secret });
  const curl = (user: string) =>
    `curl -s -H 'Cookie: argocd.token=${token(user)}' \\\n` +
    `     -H 'Argocd-Application-Name: argocd:guestbook' -H 'Argocd-Project-Name: default' \\\n` +
    `     ${sidecar.url}/extensions/anomaly/v1/hello`;
  process.stderr.write(
    `\nargocd-extension-proxy demo is running.\n\n` +
      `  sidecar   ${sidecar.url}/extensions/anomaly/  (admin: ${sidecar.adminUrl}/metrics)\n` +
      `  backend   ${backend.url} (echoes what it receives)\n` +
      `  Argo CD   ${argocd.url} (stand-in for the application API)\n\n` +
      `alice may invoke the extension (the backend echoes the headers it got):\n${curl('alice')}\n\n` +
      `bob may not (403 with the policy line that would allow him):\n${curl('bob')}\n\n` +
      `The Anomalies tab, in a development host page that stands in for Argo CD's UI\n` +
      `(React 19; add ?react=16 for Argo CD <= 3.4; &scenario=403, 401, 503, sample, empty):\n` +
      `  ${devHost.url}/?react=19\n\n` +
      `Press Ctrl-C to stop.\n`,
  );
  const stop = async () => {
    await sidecar.stop();
    await Promise.all([backend.stop(), argocd.stop(), devHost.close()]);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err: Error) => {
  process.stderr.write(`npm start: ${err.message}\n`);
  process.exit(1);
});
