import type { Application } from '../argocd-types';
import type { AnomaliesResponse, ErrorBody, ResourceRef, SummaryResponse } from './types';

/** The extension's name in argocd-cm `extension.config`; the sidecar routes on it. */
export const EXTENSION_NAME = 'anomaly';

/**
 * Where Argo CD (and the sidecar behind the Ingress) serves extension traffic, relative to
 * the page's base: Argo CD's `<base href>` is `/`, or `/<root>/` under `server.rootpath`,
 * where every route, this one included, moves under the root path.
 */
export const EXTENSION_BASE_PATH = `extensions/${EXTENSION_NAME}`;

/** Header the sidecar requires: `<app namespace>:<app name>`. */
export const APPLICATION_NAME_HEADER = 'Argocd-Application-Name';
/** Header the sidecar requires: the application's project. */
export const PROJECT_NAME_HEADER = 'Argocd-Project-Name';

export interface TimeRange {
  /** Unix seconds, inclusive. */
  from: number;
  /** Unix seconds, `from < to`. */
  to: number;
  /** Optional seconds between points; the backend may pick a coarser one. */
  step?: number;
}

/** A non-2xx answer (or an unreadable one), with the JSON error body when there is one. */
export class AnomalyApiError extends Error {
  override readonly name = 'AnomalyApiError';

  constructor(
    /** HTTP status; 0 when the request never got an answer (network error). */
    readonly status: number,
    /** The parsed JSON error body, when the server sent one. */
    readonly body: ErrorBody | undefined,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The page's base URL. Argo CD's index.html always has a `<base href>` (`/`, or
 * `/<root>/`), and its own UI builds API URLs from it; a URL from `/` would miss the root
 * path.
 */
export function pageBaseURI(): string {
  // Through globalThis: this module is also compiled and unit-tested without the DOM.
  const page = (globalThis as { document?: { baseURI: string } }).document;
  if (!page) throw new Error('no document: pass the base URL (baseURI) explicitly');
  return page.baseURI;
}

/**
 * The absolute URL of `GET <base>extensions/anomaly/api/v1/anomalies` for a resource and
 * time range, where `<base>` is the page's base (`https://argocd.example.com/` or
 * `https://example.com/argocd/`).
 */
export function buildAnomaliesUrl(
  resource: ResourceRef,
  range: TimeRange,
  baseURI: string = pageBaseURI(),
): string {
  const query = new URLSearchParams({
    group: resource.group,
    kind: resource.kind,
    namespace: resource.namespace,
    name: resource.name,
    from: String(Math.floor(range.from)),
    to: String(Math.floor(range.to)),
  });
  if (range.step !== undefined) query.set('step', String(Math.max(1, Math.round(range.step))));
  return new URL(`${EXTENSION_BASE_PATH}/api/v1/anomalies?${query.toString()}`, baseURI).href;
}

/** The headers the sidecar needs to check the application the request is about. */
export function buildApplicationHeaders(application: Application): Record<string, string> {
  // The application namespace is always set by Argo CD's API; an empty one would be
  // rejected by the sidecar with 400, which is the right answer for a malformed app.
  const namespace = application.metadata.namespace ?? '';
  return {
    [APPLICATION_NAME_HEADER]: `${namespace}:${application.metadata.name ?? ''}`,
    [PROJECT_NAME_HEADER]: application.spec.project,
  };
}

/** Reads a JSON error body if there is one; never throws. */
export async function readErrorBody(response: Response): Promise<ErrorBody | undefined> {
  try {
    const body: unknown = JSON.parse(await response.text());
    if (body && typeof body === 'object' && typeof (body as ErrorBody).error === 'string') {
      return body as ErrorBody;
    }
  } catch {
    // Not JSON (an Ingress error page, say): the status alone has to do.
  }
  return undefined;
}

export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

export interface FetchAnomaliesOptions {
  signal?: AbortSignal;
  /** Injected in tests; defaults to the browser's `fetch`. */
  fetchFn?: FetchFunction;
  /** The base URLs are resolved against; defaults to the page's (`document.baseURI`). */
  baseURI?: string;
}

/**
 * Calls `GET <base>extensions/anomaly/api/v1/anomalies`. The session cookie is httpOnly and
 * sent by the browser (same origin). Nothing is retried: the user has a refresh button,
 * and a retry loop would hide a failing backend. An abort rejects with the fetch
 * `AbortError`, which callers ignore.
 */
export function fetchAnomalies(
  application: Application,
  resource: ResourceRef,
  range: TimeRange,
  options: FetchAnomaliesOptions = {},
): Promise<AnomaliesResponse> {
  return getJson(buildAnomaliesUrl(resource, range, options.baseURI), application, options);
}

/**
 * Workloads per summary request: the backend's limit (MAX_SUMMARY_WORKLOADS), and few enough
 * that the URL stays far below the 16 KiB Node and most proxies allow for a request head
 * (at most 20 Kubernetes names of 253 characters, ~5 KiB; usually a few hundred bytes).
 */
export const SUMMARY_BATCH = 20;

/** `GET <base>extensions/anomaly/api/v1/anomalies/summary` for `workloads` (one batch). */
export function buildSummaryUrl(
  workloads: readonly ResourceRef[],
  range: TimeRange,
  baseURI: string = pageBaseURI(),
): string {
  const query = new URLSearchParams();
  for (const { group, kind, namespace, name } of workloads) {
    query.append('workload', `${group}/${kind}/${namespace}/${name}`);
  }
  query.set('from', String(Math.floor(range.from)));
  query.set('to', String(Math.floor(range.to)));
  if (range.step !== undefined) query.set('step', String(Math.max(1, Math.round(range.step))));
  return new URL(`${EXTENSION_BASE_PATH}/api/v1/anomalies/summary?${query.toString()}`, baseURI)
    .href;
}

/**
 * The summary of an application's workloads, asked in batches of {@link SUMMARY_BATCH}
 * with the application's headers (so the sidecar checks that application each time), and
 * merged: the workloads in the order given, the overall state the worst of the batches'.
 */
export async function fetchSummary(
  application: Application,
  workloads: readonly ResourceRef[],
  range: TimeRange,
  options: FetchAnomaliesOptions = {},
): Promise<SummaryResponse> {
  if (workloads.length === 0) throw new Error('fetchSummary needs at least one workload');
  const answers: SummaryResponse[] = [];
  for (let i = 0; i < workloads.length; i += SUMMARY_BATCH) {
    const url = buildSummaryUrl(workloads.slice(i, i + SUMMARY_BATCH), range, options.baseURI);
    answers.push(await getJson<SummaryResponse>(url, application, options));
  }
  return mergeSummaries(answers);
}

/** One answer from several batches' answers (at least one). */
export function mergeSummaries(answers: readonly SummaryResponse[]): SummaryResponse {
  const workloads = answers.flatMap((a) => a.workloads);
  const states = new Set(workloads.map((w) => w.state));
  return {
    range: answers[0].range,
    source: answers[0].source,
    summary: {
      state: states.has('anomalous') ? 'anomalous' : states.has('normal') ? 'normal' : 'unknown',
      maxScore: Math.max(0, ...answers.map((a) => a.summary.maxScore)),
      anomalousWorkloads: answers.reduce((n, a) => n + a.summary.anomalousWorkloads, 0),
    },
    workloads,
  };
}

/**
 * A same-origin GET, with the application's headers when there is one; errors as
 * {@link AnomalyApiError}.
 */
export async function getJson<T>(
  url: string,
  application: Application | undefined,
  options: FetchAnomaliesOptions,
): Promise<T> {
  const fetchFn: FetchFunction = options.fetchFn ?? ((input, init) => fetch(input, init));
  let response: Response;
  try {
    response = await fetchFn(url, {
      method: 'GET',
      credentials: 'same-origin',
      headers: {
        Accept: 'application/json',
        ...(application ? buildApplicationHeaders(application) : {}),
      },
      signal: options.signal,
    });
  } catch (err) {
    if (isAbortError(err)) throw err;
    throw new AnomalyApiError(0, undefined, 'network error: the request got no answer');
  }
  if (!response.ok) {
    const body = await readErrorBody(response);
    const message = body?.error ?? `request failed with status ${response.status}`;
    throw new AnomalyApiError(response.status, body, message);
  }
  try {
    return (await response.json()) as T;
  } catch (err) {
    if (isAbortError(err)) throw err;
    throw new AnomalyApiError(response.status, undefined, 'the response is not valid JSON');
  }
}

/** True for the rejection `fetch` gives when its signal is aborted. */
export function isAbortError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as Error).name === 'AbortError';
}

/**
 * The fields of `GET /api/v1/applications` the overview needs (Argo CD's `?fields=`,
 * pkg/apiclient/application/forwarder_overwrite.go appFields): a list of 500 applications
 * without their specs and histories.
 */
export const APPLICATION_LIST_FIELDS = [
  'items.metadata.name',
  'items.metadata.namespace',
  'items.spec.project',
  'items.status.resources',
];

/**
 * The applications the signed-in user may see, from Argo CD's own API with the session
 * cookie: Argo CD filters them by the user's `applications, get` grants.
 */
export async function fetchApplications(
  options: FetchAnomaliesOptions = {},
): Promise<Application[]> {
  const query = new URLSearchParams({ fields: APPLICATION_LIST_FIELDS.join(',') });
  const url = new URL(`api/v1/applications?${query.toString()}`, options.baseURI ?? pageBaseURI());
  const list = await getJson<{ items?: Application[] | null }>(url.href, undefined, options);
  return list.items ?? [];
}
