/**
 * What `npm run bench` and `npm run bench:instructions` give a sidecar: its configuration
 * (the bench extensions, each with a backend token, and the Anomalies tab's), the Argo CD
 * stand-in with the one application the requests name, and the request headers that name it.
 */
import { FakeArgoCD, guestbook } from '../../test/helpers/fake-argocd';
import { TEST_SERVER_SECRET } from '../../test/helpers/local-tokens';
import { ArgoCDConfig } from '../../test/helpers/mounted-dir';
import { PortProcess } from './processes';

export const DELEGATE_TOKEN = 'bench-delegate-token-0123456789abcdef';

/** The small policy of the budgeted rows: alice may invoke every extension. */
export const TWO_LINE_POLICY = 'p, alice, extensions, invoke, *, allow\ng, alice, role:bench';

/** The application headers of every bench request (the Argo CD UI sends the same). */
export const APP_HEADERS = {
  'Argocd-Application-Name': 'argocd:guestbook',
  'Argocd-Project-Name': 'default',
};

export interface SidecarConfigOptions {
  /**
   * The anomaly backend's URL: adds extension `anomaly` (the name the Anomalies tab calls),
   * configured as docs/configuration.md shows it, without a rate limit.
   */
  anomalyBackendUrl?: string;
}

/**
 * Extensions `bench` and `stream` (the 1 KiB backend), `viadelegate` (the same through a
 * delegate), `bench256` when a 256 KiB backend is given, and `anomaly` when
 * `options.anomalyBackendUrl` is.
 */
export function sidecarConfig(
  backends: Map<number, PortProcess>,
  policyCsv: string,
  options: SidecarConfigOptions = {},
): ArgoCDConfig {
  const service = (port: number) =>
    `maxIdleConnections: 256\nservices:\n- url: http://127.0.0.1:${port}/\n  headers:\n  - name: Authorization\n    value: $bench.token\n`;
  const small = backends.get(1024);
  const large = backends.get(256 * 1024);
  const smallService = small ? service(small.port) : undefined;
  return new ArgoCDConfig({
    cm: {
      ...(smallService
        ? {
            'extension.config.bench': smallService,
            'extension.config.stream': smallService,
            'extension.config.viadelegate': `${smallService}  delegate: bench\n`,
          }
        : {}),
      ...(large ? { 'extension.config.bench256': service(large.port) } : {}),
      ...(options.anomalyBackendUrl
        ? {
            'extension.config.anomaly': `responseTimeout: 60s\nservices:\n- url: ${options.anomalyBackendUrl}\n`,
          }
        : {}),
    },
    rbac: { 'policy.csv': policyCsv },
    secret: {
      'server.secretkey': TEST_SERVER_SECRET,
      'bench.token': 'bench-backend-token',
      [`delegate.bench.token`]: DELEGATE_TOKEN,
    },
  });
}

/** The Argo CD stand-in, started, with application argocd/guestbook readable by alice. */
export async function startBenchArgoCD(): Promise<FakeArgoCD> {
  const argocd = new FakeArgoCD();
  await argocd.start();
  argocd.setApplications([guestbook(['alice', 'dave'])]);
  return argocd;
}
