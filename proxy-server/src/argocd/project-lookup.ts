import { readFile } from 'fs/promises';
import { describeError, NotAllowedError, ProxyError, ServiceUnavailableError } from '../errors';
import { Application, checkCacheTtl } from './application-lookup';
import { ArgoCDApi, argoCDErrorMessage, ArgoCDResponse } from './argocd-api';
import {
  AppProject,
  Cluster,
  isDestinationPermitted,
  parseAppProject,
  parseClusterList,
  projectClustersFromList,
  resolveDestinationCluster,
} from './destination-permission';

/**
 * Step 5, second half: "the application's destination must be permitted by its project", as
 * Argo CD 3.x checks it before proxying (server/extension/extension.go `(*Manager).authorize`:
 * argo.GetDestinationCluster, then AppProject.IsDestinationPermitted).
 */
export interface DestinationCheck {
  /**
   * Sync fast path: `true` when the project and the cluster list are cached and permit the
   * application's destination; throws the refusal when they are cached and do not; undefined
   * when something must be read first (then await {@link check}).
   */
  permittedCached?(app: Application): true | undefined;
  /** Resolves when the destination is permitted; rejects with a ProxyError otherwise. */
  check(app: Application): Promise<void>;
}

export interface DestinationCheckOptions {
  /** The connection the application check uses (same server, TLS and timeouts). */
  api: ArgoCDApi;
  /**
   * `--argocd-token-file`: the API token of the extension proxy's own Argo CD account
   * (`projects, get` and `clusters, get`). Without it every check answers 503.
   */
  tokenFile?: string;
  /**
   * How long a project and the cluster list are reused, in ms: the application cache's TTL,
   * so the check adds no staleness beyond what the application check already has.
   */
  cacheTtlMs: number;
  /** Projects kept at most (all are dropped when full). Default: 1000. */
  cacheSize?: number;
  now?: () => number;
}

/** The flag an operator must set; named in every message about it. */
const TOKEN_FLAG = '--argocd-token-file';
const POLICY_KEY = 'policy.extension-proxy.csv';

/** What an Argo CD read gave: the value, or the error every request gets while it stands. */
type Outcome<T> = { ok: true; value: T } | { ok: false; error: ProxyError };

/** The cluster list as the checks use it: the items and Argo CD's GetProjectClusters. */
interface ClusterView {
  items: readonly Cluster[];
  projectClusters: (project: string) => Cluster[];
}

/**
 * Why a destination is refused; an error is built per request from it, since the message
 * names the application while the decision is shared by every application with the same
 * project and destination.
 */
type Decision =
  | { permitted: true }
  | { permitted: false; reason: 'unresolved' | 'not-permitted'; detail: string };

const PERMITTED: Decision = { permitted: true };

/** A project as read, with the decisions taken against one cluster list. */
interface ProjectEntry {
  outcome: Outcome<AppProject>;
  expiresAt: number;
  /** The cluster list the decisions were taken with; a new list empties them. */
  decidedWith?: ClusterView;
  decisions: DecisionTable;
}

/** Decisions per project at most (distinct destinations of its applications). */
const MAX_DECISIONS_PER_PROJECT = 1024;

/**
 * Decisions by destination name, server and namespace, in nested maps: the lookup uses the
 * application's own strings, whose hashes V8 keeps, instead of a key built (and hashed)
 * per request.
 */
class DecisionTable {
  private readonly byName = new Map<string, Map<string, Map<string, Decision>>>();
  private size = 0;

  get(name: string, server: string, namespace: string): Decision | undefined {
    return this.byName.get(name)?.get(server)?.get(namespace);
  }

  set(name: string, server: string, namespace: string, decision: Decision): void {
    if (this.size >= MAX_DECISIONS_PER_PROJECT) this.clear();
    let byServer = this.byName.get(name);
    if (byServer === undefined) this.byName.set(name, (byServer = new Map()));
    let byNamespace = byServer.get(server);
    if (byNamespace === undefined) byServer.set(server, (byNamespace = new Map()));
    byNamespace.set(namespace, decision);
    this.size++;
  }

  clear(): void {
    this.byName.clear();
    this.size = 0;
  }
}

/**
 * Reads AppProjects (`GET /api/v1/projects/{name}`) and the cluster list
 * (`GET /api/v1/clusters`) with the extension proxy's own account token and decides each
 * application's destination with Argo CD's rules (destination-permission.ts).
 *
 * Both reads are cached for the application cache's TTL (so a project narrowed by an admin
 * takes effect here within that bound), concurrent misses share one call, and failures are
 * not cached. Every way the data cannot be read fails closed with a 503 that names the cause.
 * The token is read from its file at each read of Argo CD (at most once per TTL per object),
 * so a rotated Secret is picked up without a restart; it is sent only to --argocd-server.
 */
export class ArgoCDDestinationCheck implements DestinationCheck {
  private readonly now: () => number;
  private readonly ttlMs: number;
  /** Project names come only from applications the caller could read: they are few. */
  private readonly projects = new Map<string, ProjectEntry>();
  private readonly maxProjects: number;
  private readonly projectsInflight = new Map<string, Promise<ProjectEntry>>();
  private clusters?: { view: ClusterView; expiresAt: number };
  private clustersInflight?: Promise<Outcome<ClusterView>>;

  constructor(private readonly options: DestinationCheckOptions) {
    this.now = options.now ?? Date.now;
    this.ttlMs = options.cacheTtlMs;
    checkCacheTtl(this.ttlMs, "the destination check's cache TTL");
    this.maxProjects = options.cacheSize ?? 1000;
  }

  /** Whether --argocd-token-file was given (without it every check answers 503). */
  get configured(): boolean {
    return this.options.tokenFile !== undefined;
  }

  permittedCached(app: Application): true | undefined {
    if (this.options.tokenFile === undefined) throw notConfigured();
    const clusters = this.clusters;
    const now = this.now();
    if (clusters === undefined || clusters.expiresAt <= now) return undefined;
    const project = this.freshProject(app.project, now);
    if (project === undefined) return undefined;
    return this.decide(app, project, clusters.view);
  }

  async check(app: Application): Promise<void> {
    if (this.options.tokenFile === undefined) throw notConfigured();
    const [project, clusters] = await Promise.all([
      this.readProject(app.project),
      this.readClusters(),
    ]);
    // authorize() reads the project before it resolves the cluster: its failure is reported first.
    if (!project.outcome.ok) throw this.projectError(app, project.outcome.error);
    if (!clusters.ok) throw clusters.error;
    this.decide(app, project, clusters.value);
  }

  /**
   * Why the token cannot be used right now (for the log at start), or undefined. The file
   * may appear later: the Secret is mounted optional and the file is read at each refresh.
   */
  async tokenProblem(): Promise<string | undefined> {
    if (this.options.tokenFile === undefined) return undefined;
    try {
      await readToken(this.options.tokenFile);
      return undefined;
    } catch (err) {
      return describeError(err);
    }
  }

  /** Drops every cached project and the cluster list (on configuration reload). */
  clearCache(): void {
    this.projects.clear();
    this.clusters = undefined;
  }

  /** The decision for `app`, taken once per project, cluster list and destination. */
  private decide(app: Application, project: ProjectEntry, clusters: ClusterView): true {
    if (!project.outcome.ok) throw this.projectError(app, project.outcome.error);
    const proj = project.outcome.value;
    const name = app.destination.name ?? '';
    const server = app.destination.server ?? '';
    const namespace = app.destination.namespace ?? '';
    if (project.decidedWith !== clusters) {
      project.decidedWith = clusters;
      project.decisions.clear();
    }
    let decision = project.decisions.get(name, server, namespace);
    if (decision === undefined) {
      decision = decideDestination(proj, clusters, app.destination);
      project.decisions.set(name, server, namespace, decision);
    }
    if (decision.permitted) return true;
    const where = `application ${app.namespace}/${app.name}'s destination (${describeDestination(app.destination)})`;
    // The reason Argo CD would log goes to the log (as the cause), not to the user.
    const cause = new Error(decision.detail);
    if (decision.reason === 'unresolved') {
      throw new NotAllowedError(`${where} is not a cluster registered in Argo CD`, { cause });
    }
    throw new NotAllowedError(`${where} is not permitted by project ${proj.metadata.name}`, {
      cause,
    });
  }

  /** A project that does not exist is the application's problem: 403, naming it. */
  private projectError(app: Application, error: ProxyError): ProxyError {
    if (error instanceof NotAllowedError) {
      return new NotAllowedError(
        `application ${app.namespace}/${app.name} names project ${app.project}, which does not exist`,
        { cause: error.cause },
      );
    }
    return error;
  }

  /** The cached project, unless it expired. */
  private freshProject(name: string, now: number): ProjectEntry | undefined {
    const entry = this.projects.get(name);
    if (entry === undefined || entry.expiresAt > now) return entry;
    this.projects.delete(name);
    return undefined;
  }

  private readProject(name: string): Promise<ProjectEntry> {
    const cached = this.freshProject(name, this.now());
    if (cached !== undefined) return Promise.resolve(cached);
    let pending = this.projectsInflight.get(name);
    if (pending === undefined) {
      pending = this.fetchProject(name).finally(() => this.projectsInflight.delete(name));
      this.projectsInflight.set(name, pending);
    }
    return pending;
  }

  private async fetchProject(name: string): Promise<ProjectEntry> {
    const read = await this.read(`/api/v1/projects/${encodeURIComponent(name)}`, `project ${name}`);
    const outcome = read.ok ? interpretProject(read.value, name) : read;
    const entry: ProjectEntry = {
      outcome,
      expiresAt: this.now() + this.ttlMs,
      decisions: new DecisionTable(),
    };
    // Argo CD's answers are cached (a project, or "it does not exist"); failures are not.
    if (outcome.ok || outcome.error instanceof NotAllowedError) {
      if (this.projects.size >= this.maxProjects) this.projects.clear();
      this.projects.set(name, entry);
    }
    return entry;
  }

  private readClusters(): Promise<Outcome<ClusterView>> {
    const cached = this.clusters;
    if (cached !== undefined && cached.expiresAt > this.now()) {
      return Promise.resolve({ ok: true, value: cached.view });
    }
    if (this.clustersInflight === undefined) {
      this.clustersInflight = this.fetchClusters().finally(() => {
        this.clustersInflight = undefined;
      });
    }
    return this.clustersInflight;
  }

  private async fetchClusters(): Promise<Outcome<ClusterView>> {
    const read = await this.read('/api/v1/clusters', "Argo CD's cluster list");
    const outcome = read.ok ? interpretClusters(read.value) : read;
    if (outcome.ok) this.clusters = { view: outcome.value, expiresAt: this.now() + this.ttlMs };
    return outcome;
  }

  /** One GET with the account's token, read from its file now (rotation needs no restart). */
  private async read(path: string, what: string): Promise<Outcome<ArgoCDResponse>> {
    let token: string;
    try {
      token = await readToken(this.options.tokenFile as string);
    } catch (err) {
      return {
        ok: false,
        error: new ServiceUnavailableError(
          `the destination check cannot read its Argo CD token (${TOKEN_FLAG}); see the extension proxy's log`,
          { cause: err },
        ),
      };
    }
    try {
      return { ok: true, value: await this.options.api.get(path, token) };
    } catch (err) {
      return {
        ok: false,
        error: new ServiceUnavailableError(
          `the destination check cannot read ${what}: Argo CD API is unreachable; try again shortly`,
          { cause: err },
        ),
      };
    }
  }
}

/**
 * The token in the file: surrounding whitespace (the newline `kubectl create secret
 * --from-file` or an editor leaves) is not part of it. The error never quotes the content.
 */
async function readToken(file: string): Promise<string> {
  const token = (await readFile(file, 'utf8')).trim();
  if (token === '') throw new Error(`${file} is empty`);
  // A header value cannot hold control characters or spaces; a JWT has none.
  if (!/^[\x21-\x7e]+$/.test(token)) throw new Error(`${file} does not hold a single token`);
  return token;
}

function notConfigured(): ServiceUnavailableError {
  return new ServiceUnavailableError(
    `the destination check is not configured: start the extension proxy with ${TOKEN_FLAG} ` +
      '(the API token of an Argo CD account that may get projects and clusters)',
  );
}

/** The extension proxy's account was refused: the operator's to fix, never the user's. */
function accountRefused(permission: string, response: ArgoCDResponse): ServiceUnavailableError {
  return new ServiceUnavailableError(
    `Argo CD refused the extension proxy's account (${permission}): check ${TOKEN_FLAG} and ${POLICY_KEY}`,
    { cause: answered(response) },
  );
}

/** What Argo CD answered, for the log. */
function answered(response: ArgoCDResponse): Error {
  const message = argoCDErrorMessage(response.body);
  return new Error(`Argo CD answered ${response.status}${message ? `: ${message}` : ''}`);
}

/** server/project/project.go (*Server).Get: 403 without `projects, get`, 404 when missing. */
function interpretProject(response: ArgoCDResponse, name: string): Outcome<AppProject> {
  switch (response.status) {
    case 200:
      try {
        return { ok: true, value: parseAppProject(JSON.parse(response.body)) };
      } catch (err) {
        return {
          ok: false,
          error: new ServiceUnavailableError(
            `the destination check cannot read project ${name}: Argo CD's answer is not an AppProject`,
            { cause: err },
          ),
        };
      }
    case 401:
    case 403:
      return { ok: false, error: accountRefused('projects, get', response) };
    case 404:
      // Rewritten by projectError into a message naming the application.
      return {
        ok: false,
        error: new NotAllowedError('no such project', { cause: answered(response) }),
      };
    default:
      return {
        ok: false,
        error: new ServiceUnavailableError(
          `the destination check cannot read project ${name}: Argo CD answered ${response.status}; try again shortly`,
          { cause: answered(response) },
        ),
      };
  }
}

/**
 * server/cluster/cluster.go (*Server).List: 200 with the clusters the caller may get (never
 * 403: the others are left out), 401 for a token Argo CD does not accept.
 */
function interpretClusters(response: ArgoCDResponse): Outcome<ClusterView> {
  if (response.status === 401 || response.status === 403) {
    return { ok: false, error: accountRefused('clusters, get', response) };
  }
  if (response.status !== 200) {
    return {
      ok: false,
      error: new ServiceUnavailableError(
        `the destination check cannot read Argo CD's cluster list: Argo CD answered ${response.status}; try again shortly`,
        { cause: answered(response) },
      ),
    };
  }
  let items: Cluster[];
  try {
    items = parseClusterList(JSON.parse(response.body)).items;
  } catch (err) {
    return {
      ok: false,
      error: new ServiceUnavailableError(
        "the destination check cannot read Argo CD's cluster list: Argo CD's answer is not a ClusterList",
        { cause: err },
      ),
    };
  }
  if (items.length === 0) {
    // Argo CD always lists in-cluster unless it is disabled, and with no cluster at all no
    // application can be deployed: an empty list means the account may not `clusters, get`.
    return {
      ok: false,
      error: new ServiceUnavailableError(
        `Argo CD lists no clusters to the extension proxy's account: check that ${POLICY_KEY} grants clusters, get, *`,
      ),
    };
  }
  return { ok: true, value: { items, projectClusters: projectClustersFromList(items) } };
}

/** authorize()'s two steps, over the data the API gave; the detail is what Argo CD logs. */
function decideDestination(
  project: AppProject,
  clusters: ClusterView,
  destination: Application['destination'],
): Decision {
  const resolved = resolveDestinationCluster(destination, clusters.items);
  if (!resolved.ok) {
    return {
      permitted: false,
      reason: 'unresolved',
      detail: `error getting destination cluster: ${resolved.error}`,
    };
  }
  const result = isDestinationPermitted(
    project,
    resolved.cluster,
    destination.namespace ?? '',
    clusters.projectClusters,
  );
  if (!result.ok) {
    return {
      permitted: false,
      reason: 'not-permitted',
      detail: `error validating project destinations: ${result.error}`,
    };
  }
  if (!result.permitted) {
    return {
      permitted: false,
      reason: 'not-permitted',
      detail:
        'the provided project is not allowed to access the cluster configured in the Application destination',
    };
  }
  return PERMITTED;
}

/** The destination as the application spells it (what its user sees in the UI). */
function describeDestination(destination: Application['destination']): string {
  const parts: string[] = [];
  if (destination.server !== undefined) parts.push(destination.server);
  if (destination.name !== undefined) parts.push(`cluster ${destination.name}`);
  if (parts.length === 0) parts.push('no cluster');
  if (destination.namespace !== undefined) parts.push(`namespace ${destination.namespace}`);
  return parts.join(', ');
}
