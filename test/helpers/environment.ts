import { EchoBackend } from './echo-backend';
import {
  defaultProject,
  FakeApplication,
  FakeArgoCD,
  FakeCluster,
  FakeProject,
  guestbook,
} from './fake-argocd';
import { ArgoCDConfig } from './mounted-dir';
import { TEST_SERVER_SECRET } from './local-tokens';
import { SidecarProcess } from './sidecar-process';

/** The backend credential configured as `$anomaly.token`; must never leak. */
export const BACKEND_SECRET = 'backend-secret-5c1d8e7f0a';

export const DEFAULT_POLICY = [
  'p, role:admin, extensions, invoke, *, allow',
  'g, admin, role:admin',
  'p, alice, extensions, invoke, anomaly, allow',
  'p, alice, extensions, invoke, multi, allow',
].join('\n');

export const DEFAULT_APPS: FakeApplication[] = [
  guestbook(['admin', 'alice', 'bob'], 'guestbook'),
  {
    name: 'payments',
    namespace: 'team-a',
    project: 'team-a',
    destination: { name: 'remote', namespace: 'payments' },
    readers: ['*'],
  },
  {
    // A cluster Argo CD knows, that no service of extension `multi` serves.
    name: 'nowhere',
    namespace: 'argocd',
    project: 'default',
    destination: { name: 'unserved' },
    readers: ['*'],
  },
];

/** The clusters DEFAULT_APPS deploy to, besides the implicit in-cluster one. */
export const DEFAULT_CLUSTERS: FakeCluster[] = [
  { server: 'https://remote.example.com', name: 'remote' },
  { server: 'https://unserved.example.com', name: 'unserved' },
];

/** Argo CD's default project, and team-a, which may deploy to its namespace on `remote`. */
export const DEFAULT_PROJECTS: FakeProject[] = [
  defaultProject(),
  { name: 'team-a', destinations: [{ name: 'remote', namespace: 'payments' }] },
];

export function extensionConfig(primary: string, secondary: string): string {
  return `extensions:
- name: anomaly
  backend:
    responseTimeout: 2s
    services:
    - url: ${primary}/api
      headers:
      - name: Authorization
        value: $anomaly.token
      - name: X-Static
        value: static-value
- name: multi
  backend:
    services:
    - url: ${primary}/in-cluster
      cluster:
        server: https://kubernetes.default.svc
    - url: ${secondary}/remote
      cluster:
        name: remote
`;
}

/**
 * A whole installation on loopback: two echo backends, the Argo CD API stand-in, the
 * mounted config directories, and the real sidecar process (with its default --reload-interval,
 * so the reload tests measure what an operator gets).
 */
export class Environment {
  readonly backend = new EchoBackend();
  readonly secondBackend = new EchoBackend();
  readonly argocd = new FakeArgoCD();
  config!: ArgoCDConfig;
  sidecar!: SidecarProcess;

  async start(
    options: {
      extraFlags?: string[];
      policy?: string;
      /** Extra argocd-cm keys; a function to use the started backends' URLs. */
      cm?: Record<string, string> | ((env: Environment) => Record<string, string>);
      secret?: Record<string, string>;
    } = {},
  ): Promise<this> {
    await this.backend.start();
    await this.secondBackend.start();
    await this.argocd.start();
    this.argocd.setApplications(DEFAULT_APPS);
    this.argocd.setProjects(DEFAULT_PROJECTS);
    this.argocd.setClusters(DEFAULT_CLUSTERS);
    this.config = new ArgoCDConfig({
      cm: {
        'extension.config': extensionConfig(this.backend.url, this.secondBackend.url),
        ...(typeof options.cm === 'function' ? options.cm(this) : options.cm),
      },
      rbac: { 'policy.csv': options.policy ?? DEFAULT_POLICY },
      secret: {
        'server.secretkey': TEST_SERVER_SECRET,
        'anomaly.token': BACKEND_SECRET,
        ...options.secret,
      },
    });
    this.sidecar = new SidecarProcess([
      ...this.config.flags,
      ...this.argocd.sidecarFlags(),
      '--namespace',
      'argocd',
      ...(options.extraFlags ?? []),
    ]);
    await this.sidecar.start();
    return this;
  }

  async stop(): Promise<void> {
    await this.sidecar?.stop();
    await Promise.all([this.backend.stop(), this.secondBackend.stop(), this.argocd.stop()]);
    this.config?.remove();
  }
}

/** The headers the UI extension sends for an application. */
export function appHeaders(app: string, project: string): Record<string, string> {
  return { 'Argocd-Application-Name': app, 'Argocd-Project-Name': project };
}
