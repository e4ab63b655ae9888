/**
 * What the Argo CD API stand-in (FakeArgoCD) answers to Argo CD's own web UI, for the
 * applications it models: the JSON of an Application, its resource tree, live and managed
 * resources, the settings and version answers. Pure functions of the model; the routes,
 * authentication and RBAC live in fake-argocd.ts. Shapes follow Argo CD's v1alpha1 types as
 * its API writes them (util/grpc JSONMarshaler: encoding/json, so `omitempty` fields that are
 * empty are left out); the README of each UI build in ../shared/argocd-ui lists which calls the
 * UI needs and the least each must answer.
 */
import type { FakeApplication } from './fake-argocd';

/** A Kubernetes object an application manages (`status.resources`, the resource tree). */
export interface FakeResource {
  /** '' for the core group. */
  group: string;
  version: string;
  kind: string;
  namespace: string;
  name: string;
}

/** One entry of `status.history` (v1alpha1.RevisionHistory): a sync that deployed `revision`. */
export interface FakeDeployment {
  id: number;
  revision: string;
  /** When the sync finished, RFC 3339. */
  deployedAt: string;
  /** When it started, RFC 3339. */
  deployStartedAt: string;
  /** Who started it (`initiatedBy.username`), or the controller's automated sync. */
  initiatedBy: { username?: string; automated?: boolean };
}

/** The repository every modelled application deploys from. */
const REPO_URL = 'https://example.invalid/repo';
/** The label key Argo CD's settings report by default (argocd-cm application.instanceLabelKey). */
const APP_LABEL_KEY = 'app.kubernetes.io/instance';
/** The guestbook example's image. */
const GUESTBOOK_IMAGE = 'gcr.io/heptio-images/ks-guestbook-demo:0.2';

/** A time as metav1.Time marshals it: RFC 3339 in UTC, whole seconds. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The guestbook example's objects: the Deployment guestbook-ui and its Service. */
export function guestbookResources(namespace: string): FakeResource[] {
  return [
    { group: 'apps', version: 'v1', kind: 'Deployment', namespace, name: 'guestbook-ui' },
    { group: '', version: 'v1', kind: 'Service', namespace, name: 'guestbook-ui' },
  ];
}

/**
 * Two syncs of the guestbook: one 26 hours before `now` (outside the tab's default 6-hour
 * range, inside its day), one 2 hours before (inside every range), each taking 20 seconds.
 */
export function guestbookHistory(now: number = Date.now()): FakeDeployment[] {
  const sync = (id: number, hoursAgo: number, revision: string, username: string) => {
    const finished = now - hoursAgo * 3600_000;
    return {
      id,
      revision,
      deployedAt: rfc3339(finished),
      deployStartedAt: rfc3339(finished - 20_000),
      initiatedBy: { username },
    };
  };
  return [
    sync(1, 26, '4d6c2e0f5a1b3c7d9e8f00112233445566778899', 'admin'),
    sync(2, 2, '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432', 'alice'),
  ];
}

/** The `uid` of an application's object, stable across calls. */
function uidOf(app: FakeApplication, resource: FakeResource): string {
  return `uid-${app.name}-${resource.kind.toLowerCase()}-${resource.name}`;
}

function sourceOf(): Record<string, unknown> {
  return { repoURL: REPO_URL, path: '.', targetRevision: 'HEAD' };
}

/** The application's last sync, when it has history. */
function lastSync(app: FakeApplication): FakeDeployment | undefined {
  const history = app.history ?? [];
  return history[history.length - 1];
}

/** When the application was created: a week before its first sync, or a fixed date. */
function createdAt(app: FakeApplication): string {
  const first = app.history?.[0];
  return first
    ? rfc3339(Date.parse(first.deployStartedAt) - 7 * 86400_000)
    : '2024-01-01T00:00:00Z';
}

/**
 * The Application as `GET /api/v1/applications/{name}` returns it (server/application
 * application.go Get, after inferResourcesStatusHealth fills each resource's health): spec,
 * and a status with the resources, sync and health, `history` (v1alpha1.RevisionHistories,
 * oldest first) and `operationState` of the last sync.
 */
export function applicationResponse(app: FakeApplication): Record<string, unknown> {
  const last = lastSync(app);
  const resources = app.resources ?? [];
  const status: Record<string, unknown> = {
    resources: resources.map((r) => ({
      ...(r.group ? { group: r.group } : {}),
      version: r.version,
      kind: r.kind,
      namespace: r.namespace,
      name: r.name,
      status: 'Synced',
      health: { status: 'Healthy' },
    })),
    sync: {
      status: 'Synced',
      comparedTo: { source: sourceOf(), destination: app.destination },
      ...(last ? { revision: last.revision } : {}),
    },
    health: { status: 'Healthy' },
    reconciledAt: rfc3339(Date.now()),
    sourceType: 'Directory',
    summary: resources.some((r) => r.kind === 'Deployment') ? { images: [GUESTBOOK_IMAGE] } : {},
    controllerNamespace: 'argocd',
  };
  if (app.history?.length) {
    status.history = app.history.map((h) => ({
      revision: h.revision,
      deployedAt: h.deployedAt,
      id: h.id,
      source: sourceOf(),
      deployStartedAt: h.deployStartedAt,
      initiatedBy: h.initiatedBy,
    }));
  }
  if (last) {
    status.operationState = {
      operation: {
        sync: { revision: last.revision, syncStrategy: { hook: {} } },
        initiatedBy: last.initiatedBy,
        retry: {},
      },
      phase: 'Succeeded',
      message: 'successfully synced (all tasks run)',
      syncResult: {
        resources: resources.map((r) => ({
          group: r.group,
          version: r.version,
          kind: r.kind,
          namespace: r.namespace,
          name: r.name,
          status: 'Synced',
          message: `${r.kind.toLowerCase()}${r.group ? `.${r.group}` : ''}/${r.name} configured`,
          hookPhase: 'Running',
          syncPhase: 'Sync',
        })),
        revision: last.revision,
        source: sourceOf(),
      },
      startedAt: last.deployStartedAt,
      finishedAt: last.deployedAt,
    };
  }
  return {
    metadata: {
      name: app.name,
      namespace: app.namespace,
      uid: 'uid-' + app.name,
      resourceVersion: '1',
      generation: 1,
      creationTimestamp: createdAt(app),
    },
    spec: {
      project: app.project,
      destination: app.destination,
      source: sourceOf(),
    },
    status,
  };
}

/**
 * pkg/apiclient/application/forwarder_overwrite.go appFields: the fields `?fields=` may select
 * from each item of `GET /api/v1/applications` (processApplicationListField).
 */
const APP_LIST_FIELDS: Record<string, (app: Record<string, unknown>) => unknown> = {
  'metadata.name': (a) => path(a, 'metadata.name'),
  'metadata.namespace': (a) => path(a, 'metadata.namespace'),
  'metadata.annotations': (a) => path(a, 'metadata.annotations'),
  'metadata.labels': (a) => path(a, 'metadata.labels'),
  'metadata.creationTimestamp': (a) => path(a, 'metadata.creationTimestamp'),
  'metadata.deletionTimestamp': (a) => path(a, 'metadata.deletionTimestamp'),
  spec: (a) => path(a, 'spec'),
  'spec.destination': (a) => path(a, 'spec.destination'),
  'spec.project': (a) => path(a, 'spec.project'),
  'spec.source': (a) => path(a, 'spec.source'),
  'spec.sources': (a) => path(a, 'spec.sources'),
  'spec.sourceHydrator': (a) => path(a, 'spec.sourceHydrator'),
  'spec.syncPolicy': (a) => path(a, 'spec.syncPolicy'),
  'status.sourceHydrator': (a) => path(a, 'status.sourceHydrator'),
  'status.summary': (a) => path(a, 'status.summary'),
  'status.sync.status': (a) => path(a, 'status.sync.status'),
  'status.sync.revision': (a) => path(a, 'status.sync.revision') ?? '',
  'status.health': (a) => path(a, 'status.health'),
  'status.operationState.startedAt': (a) => path(a, 'status.operationState.startedAt'),
  'status.operationState.finishedAt': (a) => path(a, 'status.operationState.finishedAt'),
  'status.resources': (a) => path(a, 'status.resources'),
  'operation.sync': (a) => path(a, 'operation.sync'),
  'status.operationState.phase': (a) => path(a, 'status.operationState.phase'),
  'status.operationState.operation.sync': (a) => path(a, 'status.operationState.syncResult'),
};

function path(value: Record<string, unknown>, dotted: string): unknown {
  let current: unknown = value;
  for (const key of dotted.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * `GET /api/v1/applications?fields=...`: with `fields`, each item keeps only the listed
 * `items.<field>` entries of APP_LIST_FIELDS (a leading `-` excludes them instead), as
 * processApplicationListField builds it; without, the whole applications.
 */
export function applicationList(
  apps: FakeApplication[],
  fields: string | null,
): Record<string, unknown> {
  const full = apps.map(applicationResponse);
  const metadata = { resourceVersion: '1' };
  if (!fields) return { metadata, items: full };
  const exclude = fields.startsWith('-');
  const selected = new Set((exclude ? fields.slice(1) : fields).split(','));
  const items = full.map((app) => {
    const converted: Record<string, unknown> = {};
    for (const [field, read] of Object.entries(APP_LIST_FIELDS)) {
      if (selected.has(`items.${field}`) === exclude) continue;
      const value = read(app);
      if (value === undefined) continue;
      const parts = field.split('.');
      let item = converted;
      for (const part of parts.slice(0, -1)) {
        item[part] ??= {};
        item = item[part] as Record<string, unknown>;
      }
      item[parts[parts.length - 1]] = value;
    }
    return converted;
  });
  return { items, metadata };
}

/**
 * `GET /api/v1/applications/{name}/resource-tree`: one node per managed object (a guestbook
 * with no ReplicaSet or Pod children: the controller would list them, the UI needs none).
 */
export function resourceTree(app: FakeApplication): Record<string, unknown> {
  return {
    nodes: (app.resources ?? []).map((r) => ({
      ...(r.group ? { group: r.group } : {}),
      version: r.version,
      kind: r.kind,
      namespace: r.namespace,
      name: r.name,
      uid: uidOf(app, r),
      resourceVersion: '1',
      health: { status: 'Healthy' },
      createdAt: createdAt(app),
      ...(r.kind === 'Deployment' ? { info: [{ name: 'Revision', value: 'Rev:2' }] } : {}),
      ...(r.kind === 'Service' ? { networkingInfo: { targetLabels: { app: r.name } } } : {}),
    })),
  };
}

/** The resource the query names (`namespace`, `resourceName`, `kind`, `group`), if managed. */
export function findResource(
  app: FakeApplication,
  query: URLSearchParams,
): FakeResource | undefined {
  const name = query.get('resourceName') ?? query.get('name');
  return (app.resources ?? []).find(
    (r) =>
      r.name === name &&
      r.namespace === (query.get('namespace') ?? '') &&
      r.kind === query.get('kind') &&
      r.group === (query.get('group') ?? ''),
  );
}

/** The live object in the cluster, as the API returns it (a JSON string in `manifest`). */
export function liveObject(app: FakeApplication, r: FakeResource): Record<string, unknown> {
  const metadata = {
    name: r.name,
    namespace: r.namespace,
    uid: uidOf(app, r),
    resourceVersion: '1',
    creationTimestamp: createdAt(app),
    labels: { app: r.name, [APP_LABEL_KEY]: app.name },
    annotations: {
      'argocd.argoproj.io/tracking-id': `${app.name}:${r.group}/${r.kind}:${r.namespace}/${r.name}`,
    },
  };
  const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
  if (r.kind === 'Deployment') {
    return {
      apiVersion,
      kind: r.kind,
      metadata: { ...metadata, generation: 2 },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: r.name } },
        template: {
          metadata: { labels: { app: r.name } },
          spec: {
            containers: [{ name: r.name, image: GUESTBOOK_IMAGE, ports: [{ containerPort: 80 }] }],
          },
        },
      },
      status: {
        observedGeneration: 2,
        replicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
        updatedReplicas: 1,
      },
    };
  }
  if (r.kind === 'Service') {
    return {
      apiVersion,
      kind: r.kind,
      metadata,
      spec: { type: 'ClusterIP', ports: [{ port: 80, targetPort: 80 }], selector: { app: r.name } },
    };
  }
  return { apiVersion, kind: r.kind, metadata };
}

/**
 * `GET /api/v1/applications/{name}/managed-resources`: a ResourceDiff per managed object the
 * query selects, desired and live state as JSON strings (synced: they agree).
 */
export function managedResources(
  app: FakeApplication,
  query: URLSearchParams,
): Record<string, unknown> {
  const items = (app.resources ?? [])
    .filter(
      (r) =>
        (!query.get('name') || r.name === query.get('name')) &&
        (!query.get('namespace') || r.namespace === query.get('namespace')) &&
        (!query.get('kind') || r.kind === query.get('kind')) &&
        (!query.has('group') || r.group === query.get('group')),
    )
    .map((r) => {
      const live = JSON.stringify(liveObject(app, r));
      return {
        ...(r.group ? { group: r.group } : {}),
        kind: r.kind,
        namespace: r.namespace,
        name: r.name,
        targetState: live,
        liveState: live,
        normalizedLiveState: live,
        predictedLiveState: live,
      };
    });
  return { items };
}

/**
 * `GET /api/v1/settings` (server/settings/settings.go Get): what everyone may read, and what
 * only a logged-in caller gets (the banner fields, the controller's namespace).
 */
export function settingsResponse(loggedIn: boolean): Record<string, unknown> {
  return {
    appLabelKey: APP_LABEL_KEY,
    kustomizeOptions: {},
    googleAnalytics: { anonymizeUsers: true },
    help: {},
    trackingMethod: 'annotation',
    appsInAnyNamespaceEnabled: true,
    ...(loggedIn ? { controllerNamespace: 'argocd' } : {}),
  };
}

/**
 * `GET /api/version` (server/version/version.go Version): the version alone to a caller who
 * is not logged in, the tools' versions too to one who is.
 */
export function versionResponse(version: string, loggedIn: boolean): Record<string, unknown> {
  if (!loggedIn) return { Version: version };
  return {
    Version: version,
    BuildDate: '2026-01-01T00:00:00Z',
    GitCommit: '0000000000000000000000000000000000000000',
    GitTreeState: 'clean',
    GoVersion: 'go1.25.0',
    Compiler: 'gc',
    Platform: 'linux/amd64',
    KustomizeVersion: 'v5.7.0',
    HelmVersion: 'v3.18.4',
    KubectlVersion: 'v0.34.0',
    JsonnetVersion: 'v0.21.0',
  };
}

/** `GET /api/v1/applications/{name}/revisions/{revision}/metadata`: the commit behind a sync. */
export function revisionMetadata(
  app: FakeApplication,
  revision: string,
): Record<string, unknown> | undefined {
  const deployment = (app.history ?? []).find((h) => h.revision === revision);
  if (!deployment) return undefined;
  return {
    author: 'Guestbook Maintainer <guestbook@example.invalid>',
    date: deployment.deployStartedAt,
    message: `Release ${deployment.id} of the guestbook`,
  };
}
