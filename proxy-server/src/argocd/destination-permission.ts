/**
 * "The application's destination must be permitted by its project", as Argo CD v3.5.1 checks
 * it before proxying an extension request (server/extension/extension.go
 * `(*Manager).authorize`):
 *
 *   destCluster, err := argo.GetDestinationCluster(ctx, app.Spec.Destination, m.cluster)
 *   permitted, err := proj.IsDestinationPermitted(destCluster, app.Spec.Destination.Namespace,
 *       m.project.GetClusters)
 *
 * Argo CD reads its own informers; the sidecar reads the same data through the API
 * (GET /api/v1/projects/{name}, GET /api/v1/clusters), so the cluster lookups here run over
 * the cluster list that GET /api/v1/clusters returns instead of the cluster informer's indexes.
 * Everything here is pure: no I/O, no clock.
 */
import { compileGlobPattern, GlobMatcher } from '../rbac/glob-pattern';

/**
 * Which of the two bounds of gobwas v0.2.3's answer a glob is matched with (glob-pattern.ts
 * GlobMatcher): the check permits only when it permits under both.
 */
type Bound = 'strict' | 'lenient';

/** v1alpha1.KubernetesInternalAPIServerAddr: the address of the cluster Argo CD runs in. */
export const IN_CLUSTER_SERVER = 'https://kubernetes.default.svc';
/** v1alpha1.KubernetesInClusterName: the name of the implicit in-cluster cluster. */
export const IN_CLUSTER_NAME = 'in-cluster';
/** util/argo ErrDestinationMissing, kept capitalised as Argo CD does. */
export const ERR_DESTINATION_MISSING = 'Destination server missing from app spec';

/** One entry of AppProject `spec.destinations` (v1alpha1.ApplicationDestination). */
export interface ProjectDestination {
  server?: string;
  name?: string;
  namespace?: string;
}

/** The parts of an AppProject (GET /api/v1/projects/{name}) the destination check reads. */
export interface AppProject {
  metadata: { name: string };
  spec: {
    destinations?: readonly ProjectDestination[];
    permitOnlyProjectScopedClusters?: boolean;
  };
}

/** The parts of a v1alpha1.Cluster (one item of GET /api/v1/clusters) the check reads. */
export interface Cluster {
  server: string;
  name: string;
  /** Set for a project-scoped cluster (the cluster secret's `project` key). */
  project?: string;
}

/** v1alpha1.ClusterList as GET /api/v1/clusters returns it, reduced to what is read. */
export interface ClusterList {
  items: Cluster[];
}

/** An Application's `spec.destination` without its namespace: how it names its cluster. */
export interface ApplicationDestination {
  server?: string;
  name?: string;
}

export type ResolveResult = { ok: true; cluster: Cluster } | { ok: false; error: string };
export type PermitResult = { ok: true; permitted: boolean } | { ok: false; error: string };

/** An argocd-server response body that does not have the shape Argo CD gives it. */
export class ArgoCDResponseFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArgoCDResponseFormatError';
  }
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads an optional string field. Go's encoding/json leaves a string empty for `null` or an
 * absent key and rejects any other type, so those are the accepted forms.
 */
function optionalString(obj: JsonObject, key: string, where: string): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new ArgoCDResponseFormatError(`${where}.${key} must be a string, got ${typeof value}`);
  }
  return value;
}

/**
 * Parses the JSON body of GET /api/v1/projects/{name} (server/project/project.go Get: the
 * AppProject as stored, serialized with Go's encoding/json and the CRD's json tags).
 * Throws an ArgoCDResponseFormatError when the body is not an AppProject, e.g. a
 * grpc-gateway error body `{"error":..., "code":..., "message":...}`.
 */
export function parseAppProject(json: unknown): AppProject {
  if (!isObject(json)) throw new ArgoCDResponseFormatError('AppProject must be a JSON object');
  const metadata = json.metadata;
  if (!isObject(metadata)) {
    throw new ArgoCDResponseFormatError('AppProject.metadata must be an object');
  }
  // The name feeds projectClusters(proj.Name); a project without one is not a stored object.
  const name = optionalString(metadata, 'name', 'AppProject.metadata');
  if (name === undefined || name === '') {
    throw new ArgoCDResponseFormatError('AppProject.metadata.name must be a non-empty string');
  }
  // `spec` has no omitempty in v1alpha1.AppProject, so a body without it is not a project.
  const spec = json.spec;
  if (!isObject(spec)) throw new ArgoCDResponseFormatError('AppProject.spec must be an object');

  const rawDestinations = spec.destinations;
  const destinations: ProjectDestination[] = [];
  if (rawDestinations !== undefined && rawDestinations !== null) {
    if (!Array.isArray(rawDestinations)) {
      throw new ArgoCDResponseFormatError('AppProject.spec.destinations must be an array');
    }
    rawDestinations.forEach((item: unknown, i) => {
      const where = `AppProject.spec.destinations[${i}]`;
      if (!isObject(item)) throw new ArgoCDResponseFormatError(`${where} must be an object`);
      const destination: ProjectDestination = {};
      const server = optionalString(item, 'server', where);
      const destName = optionalString(item, 'name', where);
      const namespace = optionalString(item, 'namespace', where);
      if (server !== undefined) destination.server = server;
      if (destName !== undefined) destination.name = destName;
      if (namespace !== undefined) destination.namespace = namespace;
      destinations.push(destination);
    });
  }

  const permitOnly = spec.permitOnlyProjectScopedClusters;
  if (permitOnly !== undefined && permitOnly !== null && typeof permitOnly !== 'boolean') {
    throw new ArgoCDResponseFormatError(
      'AppProject.spec.permitOnlyProjectScopedClusters must be a boolean',
    );
  }
  return {
    metadata: { name },
    spec: { destinations, permitOnlyProjectScopedClusters: permitOnly === true },
  };
}

/**
 * Parses the JSON body of GET /api/v1/clusters (server/cluster/cluster.go List: a
 * v1alpha1.ClusterList `{"metadata":{}, "items":[...]}` whose items are Sanitized, so they
 * carry no credentials; only server, name and project are kept here).
 * Throws an ArgoCDResponseFormatError when the body is not a ClusterList. `items` must be
 * present: Argo CD always sends it (no omitempty, never nil), so a body without it is an
 * error body or something else, and reading it as "no clusters" would hide that.
 */
export function parseClusterList(json: unknown): ClusterList {
  if (!isObject(json)) throw new ArgoCDResponseFormatError('ClusterList must be a JSON object');
  if (!('items' in json)) throw new ArgoCDResponseFormatError('ClusterList.items is missing');
  const rawItems = json.items;
  if (rawItems === null) return { items: [] };
  if (!Array.isArray(rawItems)) {
    throw new ArgoCDResponseFormatError('ClusterList.items must be an array');
  }
  const items = rawItems.map((item: unknown, i): Cluster => {
    const where = `ClusterList.items[${i}]`;
    if (!isObject(item)) throw new ArgoCDResponseFormatError(`${where} must be an object`);
    // `server` and `name` have no omitempty in v1alpha1.Cluster; a cluster without a server
    // cannot be matched against anything.
    const server = optionalString(item, 'server', where);
    if (server === undefined) throw new ArgoCDResponseFormatError(`${where}.server is missing`);
    const cluster: Cluster = { server, name: optionalString(item, 'name', where) ?? '' };
    const project = optionalString(item, 'project', where);
    if (project !== undefined && project !== '') cluster.project = project;
    return cluster;
  });
  return { items };
}

/** strings.TrimRight(s, "/"): Argo CD indexes and looks up cluster URLs without trailing slashes. */
function trimTrailingSlashes(s: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === '/') end -= 1;
  return s.slice(0, end);
}

const GO_NAMED_ESCAPES: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '"': '\\"',
  '\\': '\\\\',
};

/**
 * Go's `%q` (strconv.Quote) for the strings that appear in cluster URLs and names: ASCII
 * control characters, `"` and `\` are escaped as Go escapes them; other characters are kept
 * (Go also escapes non-printable Unicode, which cluster URLs and names do not contain).
 */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (GO_NAMED_ESCAPES[ch] !== undefined) out += GO_NAMED_ESCAPES[ch];
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code >= 0x80 && code <= 0x9f) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * util/db (*db).GetClusterServersByName over the cluster list: the servers of the clusters
 * with this exact name, with the in-cluster special cases. The informer's name index leaves
 * out clusters with an empty name, so an empty name finds nothing.
 */
function clusterServersByName(name: string, clusters: readonly Cluster[]): string[] {
  const servers = name === '' ? [] : clusters.filter((c) => c.name === name).map((c) => c.server);
  if (name !== IN_CLUSTER_NAME && !servers.includes(IN_CLUSTER_SERVER)) return servers;

  // ListClusters (and so GET /api/v1/clusters) holds the in-cluster entry exactly when
  // `cluster.inClusterEnabled` is not false, implicitly or from a secret; that is the only
  // sign of the setting the API gives.
  const inClusterEnabled = clusters.some(
    (c) => trimTrailingSlashes(c.server) === IN_CLUSTER_SERVER,
  );
  if (servers.length === 0 && name === IN_CLUSTER_NAME && inClusterEnabled) {
    // "in-cluster" names the local cluster even when its secret renames it.
    return [IN_CLUSTER_SERVER];
  }
  if (!inClusterEnabled) return servers.filter((s) => s !== IN_CLUSTER_SERVER);
  return servers;
}

/**
 * Mirrors util/argo GetDestinationCluster (with GetDestinationServer and util/db
 * (*db).GetCluster / GetClusterServersByName) over the list that GET /api/v1/clusters
 * returns. The error messages are Argo CD's; authorize() logs them after
 * "error getting destination cluster: ".
 *
 * - both name and server set: error, even when they name the same cluster, because a
 *   destination naming two clusters could pick one for routing and the other for permission;
 * - server: looked up without trailing slashes; an unknown server is an error;
 * - name: exactly one cluster must carry it; "in-cluster" also names the local cluster;
 * - neither: error.
 * When several clusters share a URL, Argo CD takes whichever its index returns first; this
 * takes the first in list order.
 */
export function resolveDestinationCluster(
  destination: ApplicationDestination,
  clusters: readonly Cluster[],
): ResolveResult {
  const name = destination.name ?? '';
  const server = destination.server ?? '';
  if (name !== '' && server !== '') {
    return {
      ok: false,
      error: `application destination can't have both name and server defined: ${name} ${server}`,
    };
  }

  let url: string;
  if (server !== '') {
    url = trimTrailingSlashes(server);
  } else if (name !== '') {
    const servers = clusterServersByName(name, clusters);
    if (servers.length === 0) {
      return { ok: false, error: `there are no clusters with this name: ${name}` };
    }
    if (servers.length > 1) {
      return {
        ok: false,
        error: `there are ${servers.length} clusters with the same name: [${servers.join(' ')}]`,
      };
    }
    url = servers[0];
  } else {
    return { ok: false, error: ERR_DESTINATION_MISSING };
  }

  const lookup = trimTrailingSlashes(url);
  const cluster = clusters.find((c) => trimTrailingSlashes(c.server) === lookup);
  if (cluster === undefined) {
    // (*db).GetCluster answers codes.NotFound; Argo CD says "is disabled" for a disabled
    // in-cluster, which the list cannot tell apart from a cluster the caller may not see.
    const notFound = `rpc error: code = NotFound desc = cluster ${goQuote(lookup)} not found`;
    return {
      ok: false,
      error:
        server !== ''
          ? `error getting cluster by server ${goQuote(server)}: ${notFound}`
          : `error getting cluster by URL: ${notFound}`,
    };
  }
  return { ok: true, cluster };
}

// Compiled patterns, keyed by pattern; `null` records a pattern gobwas cannot compile.
// Argo CD's util/glob keeps an LRU of 10,000 compiled globs; destination patterns are few,
// so a map that is emptied when full is enough.
const GLOB_CACHE_LIMIT = 1000;
const globCache = new Map<string, GlobMatcher | null>();

/**
 * util/glob Match without separators: a pattern that does not compile matches nothing.
 * gobwas v0.2.3's optimizer answers differently from a pattern's meaning for a few shapes
 * (`argocd*cd` matches "argocd"; a lone `?` matches ""; empty alternatives), so a glob is
 * matched with one bound of what Argo CD may answer, and the caller requires both bounds to
 * permit: never looser than Argo CD.
 */
function globMatchText(pattern: string, text: string, bound: Bound): boolean {
  let compiled = globCache.get(pattern);
  if (compiled === undefined) {
    if (globCache.size >= GLOB_CACHE_LIMIT) globCache.clear();
    compiled = compileGlobPattern(pattern) ?? null;
    globCache.set(pattern, compiled);
  }
  if (compiled === null) return false;
  return bound === 'strict' ? compiled.strict(text) : compiled.lenient(text);
}

/** v1alpha1 isDenyPattern. */
function isDenyPattern(pattern: string): boolean {
  return pattern.startsWith('!');
}

/**
 * v1alpha1 globMatch(pattern, val, allowNegation) with no separators, as isDestinationMatched
 * calls it: `*` (and `**`) cross `/`, so `https://*` matches any https URL. A `!` pattern
 * matches what the rest does not match, so an uncompilable `!` pattern matches everything.
 */
function globMatch(pattern: string, value: string, allowNegation: boolean, bound: Bound): boolean {
  if (allowNegation && isDenyPattern(pattern)) {
    return !globMatchText(pattern.slice(1), value, bound);
  }
  if (pattern === '*') return true;
  return globMatchText(pattern, value, bound);
}

/** v1alpha1 (AppProject).isDestinationMatched, including Go's `&&`-before-`||` grouping. */
function isDestinationMatched(
  destinations: readonly ProjectDestination[],
  dst: { server: string; name: string; namespace: string },
  bound: Bound,
): boolean {
  let anyDestinationMatched = false;
  for (const item of destinations) {
    const itemName = item.name ?? '';
    const itemServer = item.server ?? '';
    const itemNamespace = item.namespace ?? '';
    const nameMatched = dst.name !== '' && globMatch(itemName, dst.name, true, bound);
    const serverMatched = dst.server !== '' && globMatch(itemServer, dst.server, true, bound);
    const namespaceMatched = globMatch(itemNamespace, dst.namespace, true, bound);

    if ((serverMatched || nameMatched) && namespaceMatched) {
      anyDestinationMatched = true;
    } else if (
      (!nameMatched && isDenyPattern(itemName)) ||
      (!serverMatched && isDenyPattern(itemServer) && namespaceMatched)
    ) {
      // A deny entry that excludes this cluster rejects the destination outright.
      return false;
    } else if (!namespaceMatched && isDenyPattern(itemNamespace) && serverMatched) {
      return false;
    }
  }
  return anyDestinationMatched;
}

/**
 * Mirrors v1alpha1 (AppProject).IsDestinationPermitted (app_project_types.go): the resolved
 * cluster's server and name (not the application's spelling of them) plus the application's
 * destination namespace must match the project's `spec.destinations`; with
 * `permitOnlyProjectScopedClusters` the cluster must also be one of the project's own
 * clusters, where a cluster counts if its name OR its server equals the destination's
 * (an empty name equals an empty name, as in Argo CD).
 * `projectClusters` is Argo CD's GetProjectClusters callback; it is called only when needed,
 * and an exception from it becomes an error result. `destinationServiceAccounts` plays no part.
 */
export function isDestinationPermitted(
  project: AppProject,
  cluster: Cluster | undefined,
  namespace: string,
  projectClusters: (project: string) => readonly Cluster[],
): PermitResult {
  if (cluster === undefined) return { ok: true, permitted: false };
  const dst = { server: cluster.server, name: cluster.name, namespace };
  const destinations = project.spec.destinations ?? [];
  const matched =
    isDestinationMatched(destinations, dst, 'strict') &&
    isDestinationMatched(destinations, dst, 'lenient');
  if (!matched || project.spec.permitOnlyProjectScopedClusters !== true) {
    return { ok: true, permitted: matched };
  }

  let own: readonly Cluster[];
  try {
    own = projectClusters(project.metadata.name);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { ok: false, error: `could not retrieve project clusters: ${reason}` };
  }
  const permitted = own.some((c) => c.name === dst.name || c.server === dst.server);
  return { ok: true, permitted };
}

/**
 * The `projectClusters` callback over the cluster list: util/db GetProjectClusters reads the
 * informer's project index, which holds the clusters whose `project` is set and equal to the
 * project's name. The implicit in-cluster entry has no project, so it never counts.
 */
export function projectClustersFromList(
  clusters: readonly Cluster[],
): (project: string) => Cluster[] {
  return (project) =>
    project === '' ? [] : clusters.filter((c) => c.project !== undefined && c.project === project);
}
