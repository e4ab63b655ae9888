import type { Application, ApplicationTree, State } from '../../src/argocd-types';

/** The guestbook example application, as Argo CD's API returns it (fields we use). */
export const SAMPLE_APPLICATION: Application & State = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name: 'guestbook', namespace: 'argocd' },
  spec: {
    project: 'default',
    destination: { server: 'https://kubernetes.default.svc', namespace: 'guestbook' },
  },
  status: { history: sampleHistory(Date.now() / 1000) },
};

/**
 * Two syncs (status.history, models.RevisionHistory): one 5 hours ago and one 4 minutes
 * before 2.4 hours ago, about where the fixtures place the sample CPU window in the default
 * 6-hour range (2.4 hours before its end, which is at most a 90 s step before now).
 */
function sampleHistory(now: number) {
  const at = (secondsAgo: number) => new Date((now - secondsAgo) * 1000).toISOString();
  return [
    {
      id: 1,
      revision: '5f2a9c1e0b7d4a3c8e6f1a2b3c4d5e6f7a8b9c0d',
      deployStartedAt: at(5 * 3600 + 40),
      deployedAt: at(5 * 3600),
    },
    {
      id: 2,
      revision: 'abc1234def5678abc1234def5678abc1234def56',
      deployStartedAt: at(2.4 * 3600 + 4 * 60 + 30),
      deployedAt: at(2.4 * 3600 + 4 * 60),
    },
  ];
}

function manifest(apiVersion: string, kind: string, name: string): State {
  return { apiVersion, kind, metadata: { name, namespace: 'guestbook' }, spec: {}, status: {} };
}

/** The resources the host page lets you pick; `key` is the `?resource=` value. */
export const SAMPLE_RESOURCES: Array<{ key: string; group: string; state: State }> = [
  { key: 'application', group: 'argoproj.io', state: SAMPLE_APPLICATION },
  { key: 'deployment', group: 'apps', state: manifest('apps/v1', 'Deployment', 'guestbook-ui') },
  {
    key: 'replicaset',
    group: 'apps',
    state: manifest('apps/v1', 'ReplicaSet', 'guestbook-ui-85db984648'),
  },
  { key: 'pod', group: '', state: manifest('v1', 'Pod', 'guestbook-ui-85db984648-x7k2p') },
  { key: 'service', group: '', state: manifest('v1', 'Service', 'guestbook-ui') },
];

export const SAMPLE_TREE: ApplicationTree = {
  nodes: SAMPLE_RESOURCES.filter((r) => r.key !== 'application').map((r) => ({
    group: r.group,
    version: 'v1',
    kind: r.state.kind ?? '',
    namespace: r.state.metadata.namespace ?? '',
    name: r.state.metadata.name ?? '',
  })),
};
