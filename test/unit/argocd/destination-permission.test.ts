import {
  ArgoCDResponseFormatError,
  AppProject,
  Cluster,
  ERR_DESTINATION_MISSING,
  IN_CLUSTER_NAME,
  IN_CLUSTER_SERVER,
  ProjectDestination,
  isDestinationPermitted,
  parseAppProject,
  parseClusterList,
  projectClustersFromList,
  resolveDestinationCluster,
} from '../../../proxy-server/src/argocd/destination-permission';

// Cases are Argo CD v3.5.1's own tests; expected values are Argo CD's answers.

interface AppDest {
  server?: string;
  name?: string;
  namespace: string;
}

interface PermitCase {
  name: string;
  projDest: ProjectDestination[];
  appDest: AppDest;
  isPermitted: boolean;
}

function project(
  destinations: ProjectDestination[],
  permitOnlyProjectScopedClusters = false,
): AppProject {
  return { metadata: { name: 'proj' }, spec: { destinations, permitOnlyProjectScopedClusters } };
}

// The upstream tests build destCluster as &Cluster{Server: appDest.Server, Name: appDest.Name}.
function clusterOf(dest: AppDest): Cluster {
  return { server: dest.server ?? '', name: dest.name ?? '' };
}

function permitted(
  proj: AppProject,
  cluster: Cluster | undefined,
  namespace: string,
  projectClusters: (p: string) => readonly Cluster[] = () => [],
): boolean {
  const result = isDestinationPermitted(proj, cluster, namespace, projectClusters);
  if (!result.ok) throw new Error(result.error);
  return result.permitted;
}

// mirrors v1alpha1.(AppProject).IsDestinationPermitted, app_project_types.go;
// cases from TestAppProject_IsDestinationPermitted, pkg/apis/application/v1alpha1/types_test.go
const isDestinationPermittedCases: PermitCase[] = [
  {
    name: 'server an namespace match',
    projDest: [{ server: 'https://kubernetes.default.svc', namespace: 'default' }],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'default' },
    isPermitted: true,
  },
  {
    name: 'namespace does not match',
    projDest: [{ server: 'https://kubernetes.default.svc', namespace: 'default' }],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'kube-system' },
    isPermitted: false,
  },
  {
    name: 'server does not match',
    projDest: [{ server: 'https://my-cluster', namespace: 'default' }],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'default' },
    isPermitted: false,
  },
  {
    name: 'wildcard namespace',
    projDest: [{ server: 'https://kubernetes.default.svc', namespace: '*' }],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'kube-system' },
    isPermitted: true,
  },
  {
    name: 'wildcard server',
    projDest: [{ server: 'https://*.default.svc', namespace: 'default' }],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'default' },
    isPermitted: true,
  },
  {
    name: 'wildcard server and namespace (no match)',
    projDest: [{ server: 'https://team1-*', namespace: 'default' }],
    appDest: { server: 'https://test2-dev-cluster', namespace: 'default' },
    isPermitted: false,
  },
  {
    name: 'wildcard namespace with prefix',
    projDest: [{ server: 'https://kubernetes.default.svc', namespace: 'test-*' }],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'test-foo' },
    isPermitted: true,
  },
  {
    name: 'wildcard namespace without prefix',
    projDest: [{ server: 'https://kubernetes.default.svc', namespace: 'test-*' }],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'test' },
    isPermitted: false,
  },
  {
    name: 'wildcard server and namespace',
    projDest: [{ server: '*', namespace: '*' }],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'test' },
    isPermitted: true,
  },
  {
    name: 'wildcard server and namespace with name',
    projDest: [{ server: '', namespace: '*', name: 'test' }],
    appDest: { name: 'test', namespace: 'test' },
    isPermitted: true,
  },
  {
    name: 'wildcard server and namespace with different name',
    projDest: [{ server: '', namespace: '*', name: 'test2' }],
    appDest: { name: 'test', namespace: 'test' },
    isPermitted: false,
  },
  {
    name: 'negated namespace with multiple values',
    projDest: [
      {
        name: 'host-cluster',
        server: 'https://kubernetes.default.svc',
        namespace: '!{kube-system,argocd}',
      },
      {
        name: 'destination-cluster-01',
        server: 'https://eks-cluster-endpoint.ap-southeast-1.eks.amazonaws.com',
        namespace: '*',
      },
    ],
    appDest: {
      server: 'https://eks-cluster-endpoint.ap-southeast-1.eks.amazonaws.com',
      namespace: 'kube-system',
    },
    isPermitted: true,
  },
];

// mirrors v1alpha1.(AppProject).IsDestinationPermitted / isDestinationMatched (negation),
// app_project_types.go; cases from TestAppProject_IsNegatedDestinationPermitted, types_test.go
// (unnamed upstream; named here by their position and content).
const negatedCases: PermitCase[] = [
  {
    name: '#1 !server excludes that server',
    projDest: [{ server: '!https://kubernetes.default.svc', namespace: 'default' }],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'default' },
    isPermitted: false,
  },
  {
    name: '#2 !namespace permits another namespace',
    projDest: [{ server: 'https://kubernetes.default.svc', namespace: '!default' }],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'kube-system' },
    isPermitted: true,
  },
  {
    name: '#3 !server permits another server',
    projDest: [{ server: '!https://my-cluster', namespace: 'default' }],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'default' },
    isPermitted: true,
  },
  {
    name: '#4 !server with * namespace',
    projDest: [{ server: '!https://kubernetes.default.svc', namespace: '*' }],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'kube-system' },
    isPermitted: false,
  },
  {
    name: '#5 negated server glob that matches',
    projDest: [{ server: '!https://*.default.svc', namespace: 'default' }],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'default' },
    isPermitted: false,
  },
  {
    name: '#6 negated server glob that does not match',
    projDest: [{ server: '!https://team1-*', namespace: 'default' }],
    appDest: { server: 'https://test2-dev-cluster', namespace: 'default' },
    isPermitted: true,
  },
  {
    name: '#7 negated namespace glob that matches',
    projDest: [{ server: 'https://kubernetes.default.svc', namespace: '!test-*' }],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'test-foo' },
    isPermitted: false,
  },
  {
    name: '#8 negated namespace glob that does not match',
    projDest: [{ server: 'https://kubernetes.default.svc', namespace: '!test-*' }],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'test' },
    isPermitted: true,
  },
  {
    name: '#9 !name excludes that name',
    projDest: [{ server: '', namespace: '*', name: '!test' }],
    appDest: { name: 'test', namespace: 'test' },
    isPermitted: false,
  },
  {
    name: '#10 !name permits another name',
    projDest: [{ server: '', namespace: '*', name: '!test2' }],
    appDest: { name: 'test', namespace: 'test' },
    isPermitted: true,
  },
  {
    name: '#11 namespace allowed then denied',
    projDest: [
      { server: '*', namespace: 'kube-system' },
      { server: '*', namespace: '!kube-system' },
    ],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'kube-system' },
    isPermitted: false,
  },
  {
    name: '#12 any namespace then !kube-system',
    projDest: [
      { server: '*', namespace: '*' },
      { server: '*', namespace: '!kube-system' },
    ],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'kube-system' },
    isPermitted: false,
  },
  {
    name: '#13 server allowed then denied',
    projDest: [
      { server: 'https://kubernetes.default.svc', namespace: '*' },
      { server: '!https://kubernetes.default.svc', namespace: '*' },
    ],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'kube-system' },
    isPermitted: false,
  },
  {
    name: '#14 anything, then !server in kube-system',
    projDest: [
      { server: '*', namespace: '*' },
      { server: '!https://kubernetes.default.svc', namespace: 'kube-system' },
    ],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'kube-system' },
    isPermitted: false,
  },
  {
    name: '#15 three entries, denied server and namespace',
    projDest: [
      { server: '*', namespace: '*' },
      { server: '!https://kubernetes.default.svc', namespace: 'kube-system' },
      { server: '*', namespace: '!kube-system' },
    ],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'kube-system' },
    isPermitted: false,
  },
  {
    name: '#16 three entries, other namespace permitted',
    projDest: [
      { server: '*', namespace: '*' },
      { server: '!https://kubernetes.default.svc', namespace: 'kube-system' },
      { server: '*', namespace: '!kube-system' },
    ],
    appDest: { server: 'https://kubernetes.default.svc', namespace: 'default' },
    isPermitted: true,
  },
  {
    name: '#17 three entries, other server in kube-system denied',
    projDest: [
      { server: '*', namespace: '*' },
      { server: '!https://kubernetes.default.svc', namespace: 'kube-system' },
      { server: '*', namespace: '!kube-system' },
    ],
    appDest: { server: 'https://test-dev-cluster', namespace: 'kube-system' },
    isPermitted: false,
  },
  {
    name: '#18 name allowed then denied',
    projDest: [
      { server: '', namespace: '*', name: 'test' },
      { server: '', namespace: '*', name: '!test' },
    ],
    appDest: { name: 'test', namespace: 'test' },
    isPermitted: false,
  },
  {
    name: '#19 deny entry for another namespace does not apply',
    projDest: [
      { server: '*', namespace: 'test' },
      { server: '!https://test-server', namespace: 'other' },
    ],
    appDest: { server: 'https://test-server', namespace: 'test' },
    isPermitted: true,
  },
  {
    name: '#20 deny namespace of another server does not apply',
    projDest: [
      { server: '*', namespace: '*' },
      { server: 'https://test-server', namespace: '!other' },
    ],
    appDest: { server: 'https://other-test-server', namespace: 'other' },
    isPermitted: true,
  },
];

interface ScopedCase extends PermitCase {
  clusters: Cluster[];
}

// mirrors v1alpha1.(AppProject).IsDestinationPermitted with permitOnlyProjectScopedClusters,
// app_project_types.go; cases from TestAppProject_IsDestinationPermitted_PermitOnlyProjectScopedClusters,
// types_test.go (upstream clusters carry only the field shown; the other one is empty).
const scopedCases: ScopedCase[] = [
  {
    name: '#1 matched by glob but the project has no clusters',
    projDest: [{ server: 'https://team1-*', namespace: 'default' }],
    clusters: [],
    appDest: { server: 'https://team1-something.com', namespace: 'default' },
    isPermitted: false,
  },
  {
    name: '#2 project cluster with the same server',
    projDest: [{ server: 'https://my-cluster.123.com', namespace: 'default' }],
    appDest: { server: 'https://my-cluster.123.com', namespace: 'default' },
    clusters: [{ server: 'https://my-cluster.123.com', name: '' }],
    isPermitted: true,
  },
  {
    name: '#3 destination not in the project destinations',
    projDest: [{ server: 'https://my-cluster.123.com', namespace: 'default' }],
    appDest: { server: 'https://some-other-cluster.example.com', namespace: 'default' },
    clusters: [{ server: 'https://my-cluster.123.com', name: '' }],
    isPermitted: false,
  },
  {
    name: '#4 matched by name but the project has no clusters',
    projDest: [{ name: 'some-server', namespace: 'default' }],
    clusters: [],
    appDest: { name: 'some-server', namespace: 'default' },
    isPermitted: false,
  },
  {
    name: '#5 project cluster with the same name',
    projDest: [{ name: 'some-other-server', namespace: 'default' }],
    appDest: { name: 'some-other-server', namespace: 'default' },
    clusters: [{ server: '', name: 'some-other-server' }],
    isPermitted: true,
  },
  {
    name: '#6 name not in the project destinations',
    projDest: [{ name: 'some-server', namespace: 'default' }],
    appDest: { name: 'some-other-server', namespace: 'default' },
    clusters: [{ server: '', name: 'some-server' }],
    isPermitted: false,
  },
];

describe('isDestinationPermitted', () => {
  // mirrors v1alpha1.(AppProject).IsDestinationPermitted, app_project_types.go
  describe('TestAppProject_IsDestinationPermitted (types_test.go)', () => {
    test.each(isDestinationPermittedCases)('$name', ({ projDest, appDest, isPermitted }) => {
      expect(permitted(project(projDest), clusterOf(appDest), appDest.namespace)).toBe(isPermitted);
    });
  });

  // mirrors v1alpha1.(AppProject).isDestinationMatched deny handling, app_project_types.go
  describe('TestAppProject_IsNegatedDestinationPermitted (types_test.go)', () => {
    test.each(negatedCases)('$name', ({ projDest, appDest, isPermitted }) => {
      expect(permitted(project(projDest), clusterOf(appDest), appDest.namespace)).toBe(isPermitted);
    });
  });

  // mirrors v1alpha1.(AppProject).IsDestinationPermitted permitOnlyProjectScopedClusters branch
  describe('TestAppProject_IsDestinationPermitted_PermitOnlyProjectScopedClusters (types_test.go)', () => {
    test.each(scopedCases)('$name', ({ projDest, appDest, clusters, isPermitted }) => {
      expect(
        permitted(project(projDest, true), clusterOf(appDest), appDest.namespace, () => clusters),
      ).toBe(isPermitted);
    });

    test('a failing projectClusters callback is an error', () => {
      const proj = project([{ server: 'https://my-cluster.123.com', namespace: 'default' }], true);
      const result = isDestinationPermitted(
        proj,
        { server: 'https://my-cluster.123.com', name: '' },
        'default',
        () => {
          throw new Error('some error');
        },
      );
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error).toContain('could not retrieve project clusters');
    });

    test('the callback receives the project name and is not called for an unmatched destination', () => {
      const calls: string[] = [];
      const callback = (p: string): Cluster[] => {
        calls.push(p);
        return [{ server: 'https://a', name: 'a', project: p }];
      };
      const proj = project([{ server: 'https://a', namespace: '*' }], true);
      expect(permitted(proj, { server: 'https://a', name: 'a' }, 'ns', callback)).toBe(true);
      expect(permitted(proj, { server: 'https://b', name: 'b' }, 'ns', callback)).toBe(false);
      expect(calls).toEqual(['proj']);
    });
  });

  // mirrors the `if destCluster == nil { return false, nil }` guard of IsDestinationPermitted
  test('no cluster is not permitted', () => {
    expect(permitted(project([{ server: '*', namespace: '*' }]), undefined, 'default')).toBe(false);
  });

  // mirrors globMatch + util/glob.Match without separators, app_project_types.go
  describe('glob semantics of globMatch (no separators)', () => {
    test.each([
      // `*` crosses `/` because isDestinationMatched passes no separators.
      { server: 'https://*', value: 'https://a.example.com/path', expected: true },
      { server: 'https://?.example.com', value: 'https://a.example.com', expected: true },
      { server: 'https://[ab].example.com', value: 'https://c.example.com', expected: false },
      { server: 'https://{a,b}.example.com', value: 'https://b.example.com', expected: true },
      // A pattern gobwas cannot compile matches nothing ...
      { server: 'https://[z-a]', value: 'https://[z-a]', expected: false },
      // ... so its negation matches everything.
      { server: '!https://[z-a]', value: 'https://anything', expected: true },
    ])('server pattern $server vs $value', ({ server, value, expected }) => {
      const proj = project([{ server, namespace: '*' }]);
      expect(permitted(proj, { server: value, name: '' }, 'default')).toBe(expected);
    });

    test('an empty destination namespace matches only `*` or an empty pattern', () => {
      const cluster = { server: 'https://a', name: '' };
      expect(permitted(project([{ server: '*', namespace: '*' }]), cluster, '')).toBe(true);
      expect(permitted(project([{ server: '*' }]), cluster, '')).toBe(true);
      expect(permitted(project([{ server: '*', namespace: 'default' }]), cluster, '')).toBe(false);
    });

    test('destinations absent from the project permit nothing', () => {
      expect(
        permitted({ metadata: { name: 'p' }, spec: {} }, { server: 'https://a', name: 'a' }, 'x'),
      ).toBe(false);
    });
  });

  // mirrors IsDestinationPermitted building dst from destCluster.Server/Name: the resolved
  // cluster's name counts, not the application's spelling of it.
  test('checks the resolved cluster name and server, not the application destination', () => {
    const clusters: Cluster[] = [{ server: IN_CLUSTER_SERVER, name: 'in-cluster-renamed' }];
    const resolved = resolveDestinationCluster({ name: IN_CLUSTER_NAME }, clusters);
    expect(resolved.ok).toBe(true);
    const cluster = resolved.ok ? resolved.cluster : undefined;
    expect(permitted(project([{ name: IN_CLUSTER_NAME, namespace: '*' }]), cluster, 'x')).toBe(
      false,
    );
    expect(permitted(project([{ name: 'in-cluster-renamed', namespace: '*' }]), cluster, 'x')).toBe(
      true,
    );
    expect(permitted(project([{ server: IN_CLUSTER_SERVER, namespace: '*' }]), cluster, 'x')).toBe(
      true,
    );
  });
});

function resolve(destination: { server?: string; name?: string }, clusters: Cluster[]) {
  return resolveDestinationCluster(destination, clusters);
}

describe('resolveDestinationCluster', () => {
  // mirrors util/argo.GetDestinationCluster, util/argo/argo.go;
  // cases from TestGetDestinationCluster, util/argo/argo_test.go
  describe('TestGetDestinationCluster (util/argo/argo_test.go)', () => {
    test('Validate destination with server url', () => {
      const expected = { server: 'https://127.0.0.1:6443', name: '' };
      expect(resolve({ server: 'https://127.0.0.1:6443' }, [expected])).toEqual({
        ok: true,
        cluster: expected,
      });
    });

    test('Validate destination with server name', () => {
      const result = resolve({ name: 'minikube' }, [
        { server: 'https://127.0.0.1:6443', name: 'minikube' },
      ]);
      expect(result.ok && result.cluster.server).toBe('https://127.0.0.1:6443');
    });

    test('Error when having both server url and name', () => {
      expect(resolve({ server: 'https://127.0.0.1:6443', name: 'minikube' }, [])).toEqual({
        ok: false,
        error:
          "application destination can't have both name and server defined: minikube https://127.0.0.1:6443",
      });
    });

    // "GetClusterServersByName fails" has no counterpart: the list is already in hand.

    test('Destination cluster does not exist', () => {
      expect(resolve({ name: 'minikube' }, [])).toEqual({
        ok: false,
        error: 'there are no clusters with this name: minikube',
      });
    });

    test('Validate too many clusters with the same name', () => {
      expect(
        resolve({ name: 'dind' }, [
          { server: 'https://127.0.0.1:2443', name: 'dind' },
          { server: 'https://127.0.0.1:8443', name: 'dind' },
        ]),
      ).toEqual({
        ok: false,
        error:
          'there are 2 clusters with the same name: [https://127.0.0.1:2443 https://127.0.0.1:8443]',
      });
    });
  });

  // mirrors util/argo.GetDestinationServer's last branch (ErrDestinationMissing); cf.
  // TestValidatePermissionsEmptyDestination, util/argo/argo_test.go
  test('a destination with neither name nor server is an error', () => {
    expect(resolve({}, [{ server: IN_CLUSTER_SERVER, name: IN_CLUSTER_NAME }])).toEqual({
      ok: false,
      error: ERR_DESTINATION_MISSING,
    });
    expect(resolve({ name: '', server: '' }, [])).toEqual({
      ok: false,
      error: 'Destination server missing from app spec',
    });
  });

  // mirrors util/db.(*db).GetCluster; cases from TestGetCluster, util/db/cluster_test.go.
  // Each cluster list is what GET /api/v1/clusters returns in the upstream test's state.
  describe('TestGetCluster (util/db/cluster_test.go)', () => {
    const external = { server: 'http://mycluster2', name: 'mycluster2' };
    const implicitInCluster = { server: IN_CLUSTER_SERVER, name: IN_CLUSTER_NAME };
    const renamedInCluster = { server: IN_CLUSTER_SERVER, name: 'in-cluster-renamed' };

    test('Valid external cluster', () => {
      expect(resolve({ server: 'http://mycluster2' }, [external, implicitInCluster])).toEqual({
        ok: true,
        cluster: external,
      });
    });

    test('invalid cluster (NotFound)', () => {
      expect(resolve({ server: 'https://mycluster-does-not-exist' }, [implicitInCluster])).toEqual({
        ok: false,
        error:
          'error getting cluster by server "https://mycluster-does-not-exist": ' +
          'rpc error: code = NotFound desc = cluster "https://mycluster-does-not-exist" not found',
      });
    });

    test('in-cluster not configured: the implicit in-cluster entry', () => {
      const result = resolve({ server: IN_CLUSTER_SERVER }, [implicitInCluster]);
      expect(result).toEqual({ ok: true, cluster: implicitInCluster });
    });

    test('in-cluster disabled: the list has no in-cluster entry (NotFound)', () => {
      const result = resolve({ server: IN_CLUSTER_SERVER }, []);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error).toContain('code = NotFound');
    });

    test('in-cluster configured: the secret renames it', () => {
      expect(resolve({ server: IN_CLUSTER_SERVER }, [renamedInCluster])).toEqual({
        ok: true,
        cluster: renamedInCluster,
      });
    });

    test('in-cluster configured and disabled (NotFound)', () => {
      expect(resolve({ server: IN_CLUSTER_SERVER }, [external]).ok).toBe(false);
    });
  });

  // mirrors util/db.(*db).GetClusterServersByName; cases from TestGetClusterServersByName,
  // util/db/cluster_test.go (lists as GET /api/v1/clusters returns them in each state)
  describe('TestGetClusterServersByName (util/db/cluster_test.go)', () => {
    test('returns the server name', () => {
      const result = resolve({ name: 'my-cluster-name' }, [
        { server: 'https://my-cluster-server', name: 'my-cluster-name' },
        { server: IN_CLUSTER_SERVER, name: IN_CLUSTER_NAME },
      ]);
      expect(result.ok && result.cluster.server).toBe('https://my-cluster-server');
    });

    test('returns in-cluster', () => {
      const result = resolve({ name: IN_CLUSTER_NAME }, [
        { server: IN_CLUSTER_SERVER, name: IN_CLUSTER_NAME },
      ]);
      expect(result.ok && result.cluster.server).toBe(IN_CLUSTER_SERVER);
    });

    test('does not return in-cluster when disabled', () => {
      expect(resolve({ name: IN_CLUSTER_NAME }, [])).toEqual({
        ok: false,
        error: 'there are no clusters with this name: in-cluster',
      });
    });

    test('returns in-cluster when configured (renamed secret)', () => {
      const result = resolve({ name: 'in-cluster-renamed' }, [
        { server: IN_CLUSTER_SERVER, name: 'in-cluster-renamed' },
      ]);
      expect(result.ok && result.cluster.server).toBe(IN_CLUSTER_SERVER);
    });

    test('"in-cluster" still names the local cluster when its secret renames it', () => {
      const renamed = { server: IN_CLUSTER_SERVER, name: 'in-cluster-renamed' };
      expect(resolve({ name: IN_CLUSTER_NAME }, [renamed])).toEqual({
        ok: true,
        cluster: renamed,
      });
    });

    test('does not return in-cluster when configured and disabled', () => {
      // ListClusters drops the in-cluster secret when in-cluster is disabled.
      expect(resolve({ name: 'in-cluster-renamed' }, []).ok).toBe(false);
      expect(resolve({ name: IN_CLUSTER_NAME }, []).ok).toBe(false);
    });

    test('another cluster named "in-cluster" is found by that name', () => {
      const impostor = { server: 'https://elsewhere', name: IN_CLUSTER_NAME };
      expect(resolve({ name: IN_CLUSTER_NAME }, [impostor])).toEqual({
        ok: true,
        cluster: impostor,
      });
      expect(
        resolve({ name: IN_CLUSTER_NAME }, [
          impostor,
          { server: IN_CLUSTER_SERVER, name: IN_CLUSTER_NAME },
        ]),
      ).toEqual({
        ok: false,
        error: `there are 2 clusters with the same name: [https://elsewhere ${IN_CLUSTER_SERVER}]`,
      });
    });
  });

  // mirrors settings.(*ClusterInformer).GetClusterByURL / GetClusterServersByName; cases from
  // TestClusterInformer_URLNormalization, _GetClusterServersByName and _EdgeCases,
  // util/settings/cluster_informer_test.go
  describe('TestClusterInformer_* (util/settings/cluster_informer_test.go)', () => {
    test.each(['https://cluster.example.com', 'https://cluster.example.com/'])(
      'URLNormalization: %s',
      (server) => {
        const result = resolve({ server }, [
          { server: 'https://cluster.example.com', name: 'cluster1' },
        ]);
        expect(result.ok && result.cluster.name).toBe('cluster1');
      },
    );

    test('URLNormalization: the error names the destination as written', () => {
      expect(resolve({ server: 'https://x//' }, [])).toEqual({
        ok: false,
        error:
          'error getting cluster by server "https://x//": ' +
          'rpc error: code = NotFound desc = cluster "https://x" not found',
      });
    });

    test('GetClusterServersByName: two clusters named production', () => {
      const result = resolve({ name: 'production' }, [
        { server: 'https://prod1.example.com', name: 'production', project: 'team-a' },
        { server: 'https://prod2.example.com', name: 'production', project: 'team-b' },
      ]);
      expect(result).toEqual({
        ok: false,
        error:
          'there are 2 clusters with the same name: [https://prod1.example.com https://prod2.example.com]',
      });
    });

    test('EdgeCases: Cluster with empty name is found by URL only', () => {
      const noName = { server: 'https://noname.example.com', name: '' };
      expect(resolve({ server: 'https://noname.example.com' }, [noName])).toEqual({
        ok: true,
        cluster: noName,
      });
    });

    test('EdgeCases: Cluster with special characters in URL', () => {
      const special = { server: 'https://cluster.example.com:8443/path', name: 'special' };
      const result = resolve({ server: 'https://cluster.example.com:8443/path/' }, [special]);
      expect(result.ok && result.cluster.name).toBe('special');
    });

    test('EdgeCases: Multiple clusters with same URL resolve to one of them', () => {
      const result = resolve({ server: 'https://duplicate.example.com' }, [
        { server: 'https://duplicate.example.com', name: 'first' },
        { server: 'https://duplicate.example.com/', name: 'second' },
      ]);
      expect(result.ok).toBe(true);
    });
  });

  test('quotes the server in the NotFound message as Go %q does', () => {
    const result = resolve({ server: 'https://a"b\\c\td\x01' }, []);
    expect(!result.ok && result.error).toBe(
      'error getting cluster by server "https://a\\"b\\\\c\\td\\x01": ' +
        'rpc error: code = NotFound desc = cluster "https://a\\"b\\\\c\\td\\x01" not found',
    );
  });
});

// mirrors util/db.(*db).GetProjectClusters (the ClusterInformer project index); cases from
// TestClusterInformer_GetProjectClusters, util/settings/cluster_informer_test.go
describe('projectClustersFromList', () => {
  const clusters: Cluster[] = [
    { server: 'https://a1.example.com', name: 'a1', project: 'project-a' },
    { server: 'https://a2.example.com', name: 'a2', project: 'project-a' },
    { server: 'https://b1.example.com', name: 'b1', project: 'project-b' },
    { server: IN_CLUSTER_SERVER, name: IN_CLUSTER_NAME },
  ];
  const byProject = projectClustersFromList(clusters);

  test('returns clusters for matching project', () => {
    expect(byProject('project-a').map((c) => c.server)).toEqual([
      'https://a1.example.com',
      'https://a2.example.com',
    ]);
  });

  test('does not return clusters from other projects', () => {
    expect(byProject('project-b').map((c) => c.server)).toEqual(['https://b1.example.com']);
  });

  test('returns empty for non-existent project (and for an empty name)', () => {
    expect(byProject('no-such-project')).toEqual([]);
    expect(byProject('')).toEqual([]);
  });

  test('drives permitOnlyProjectScopedClusters end to end', () => {
    const proj: AppProject = {
      metadata: { name: 'project-a' },
      spec: {
        destinations: [{ server: '*', namespace: '*' }],
        permitOnlyProjectScopedClusters: true,
      },
    };
    const check = (server: string) => {
      const resolved = resolveDestinationCluster({ server }, clusters);
      if (!resolved.ok) throw new Error(resolved.error);
      return permitted(proj, resolved.cluster, 'default', byProject);
    };
    expect(check('https://a1.example.com')).toBe(true);
    expect(check('https://b1.example.com')).toBe(false);
    expect(check(IN_CLUSTER_SERVER)).toBe(false);
  });
});

describe('parseAppProject', () => {
  // The shape of server/project/project.go Get's answer (a stored AppProject).
  const body = {
    metadata: { name: 'team-a', namespace: 'argocd', resourceVersion: '42' },
    spec: {
      sourceRepos: ['*'],
      destinations: [
        { server: 'https://kubernetes.default.svc', namespace: 'team-a-*' },
        { name: 'prod', namespace: '!kube-system' },
      ],
      permitOnlyProjectScopedClusters: true,
      destinationServiceAccounts: [{ server: '*', namespace: '*', defaultServiceAccount: 'sa' }],
    },
    status: {},
  };

  test('reads name, destinations and permitOnlyProjectScopedClusters', () => {
    expect(parseAppProject(body)).toEqual({
      metadata: { name: 'team-a' },
      spec: {
        destinations: [
          { server: 'https://kubernetes.default.svc', namespace: 'team-a-*' },
          { name: 'prod', namespace: '!kube-system' },
        ],
        permitOnlyProjectScopedClusters: true,
      },
    });
  });

  test('omitted (omitempty) or null fields read as empty, as Go decodes them', () => {
    expect(
      parseAppProject({ metadata: { name: 'p' }, spec: { destinations: [{ server: null }] } }),
    ).toEqual({
      metadata: { name: 'p' },
      spec: { destinations: [{}], permitOnlyProjectScopedClusters: false },
    });
    expect(
      parseAppProject({
        metadata: { name: 'p' },
        spec: { destinations: null, permitOnlyProjectScopedClusters: null },
      }),
    ).toEqual({
      metadata: { name: 'p' },
      spec: { destinations: [], permitOnlyProjectScopedClusters: false },
    });
  });

  test.each([
    ['null', null],
    ['an array', []],
    ['a string', 'team-a'],
    [
      'a grpc-gateway error body',
      { error: 'permission denied', code: 7, message: 'permission denied' },
    ],
    ['no metadata.name', { metadata: {}, spec: {} }],
    ['an empty metadata.name', { metadata: { name: '' }, spec: {} }],
    ['a numeric metadata.name', { metadata: { name: 1 }, spec: {} }],
    ['no spec', { metadata: { name: 'p' } }],
    ['destinations not an array', { metadata: { name: 'p' }, spec: { destinations: {} } }],
    ['a destination not an object', { metadata: { name: 'p' }, spec: { destinations: ['x'] } }],
    [
      'a numeric destination server',
      { metadata: { name: 'p' }, spec: { destinations: [{ server: 1 }] } },
    ],
    [
      'a string permitOnlyProjectScopedClusters',
      { metadata: { name: 'p' }, spec: { permitOnlyProjectScopedClusters: 'true' } },
    ],
  ])('rejects %s', (_label, json) => {
    expect(() => parseAppProject(json)).toThrow(ArgoCDResponseFormatError);
  });

  test('the error says which field is wrong', () => {
    expect(() =>
      parseAppProject({ metadata: { name: 'p' }, spec: { destinations: [{}, { namespace: 3 }] } }),
    ).toThrow('AppProject.spec.destinations[1].namespace must be a string, got number');
  });
});

describe('parseClusterList', () => {
  // The shape of server/cluster/cluster.go List's answer: Sanitized clusters (no credentials).
  const body = {
    metadata: {},
    items: [
      {
        server: 'https://kubernetes.default.svc',
        name: 'in-cluster',
        config: { tlsClientConfig: { insecure: false } },
        connectionState: { status: 'Successful', message: '' },
        info: { connectionState: { status: 'Successful', message: '' }, applicationsCount: 3 },
      },
      {
        server: 'https://prod.example.com',
        name: 'prod',
        project: 'team-a',
        namespaces: ['a', 'b'],
        config: { tlsClientConfig: { insecure: false, serverName: 'prod' } },
      },
    ],
  };

  test('keeps server, name and project only', () => {
    expect(parseClusterList(body)).toEqual({
      items: [
        { server: 'https://kubernetes.default.svc', name: 'in-cluster' },
        { server: 'https://prod.example.com', name: 'prod', project: 'team-a' },
      ],
    });
  });

  test('an empty list (e.g. every cluster hidden by RBAC) is valid', () => {
    expect(parseClusterList({ metadata: {}, items: [] })).toEqual({ items: [] });
    expect(parseClusterList({ metadata: {}, items: null })).toEqual({ items: [] });
  });

  test('a null or absent name reads as empty; an empty project as none', () => {
    expect(
      parseClusterList({
        items: [{ server: 'https://a', name: null, project: '' }, { server: 'https://b' }],
      }),
    ).toEqual({
      items: [
        { server: 'https://a', name: '' },
        { server: 'https://b', name: '' },
      ],
    });
  });

  test.each([
    ['null', null],
    ['an array', []],
    ['no items', { metadata: {} }],
    [
      'a grpc-gateway error body',
      { error: 'no session information', code: 16, message: 'no session information' },
    ],
    ['items not an array', { items: {} }],
    ['an item not an object', { items: ['https://a'] }],
    ['an item without server', { items: [{ name: 'a' }] }],
    ['a numeric server', { items: [{ server: 1, name: 'a' }] }],
    ['a numeric name', { items: [{ server: 'https://a', name: 2 }] }],
    ['a non-string project', { items: [{ server: 'https://a', name: 'a', project: true }] }],
  ])('rejects %s', (_label, json) => {
    expect(() => parseClusterList(json)).toThrow(ArgoCDResponseFormatError);
  });
});
