import { IncomingHttpHeaders, OutgoingHttpHeaders } from 'http';
import { AuthenticationError } from '../errors';
import { Identity } from '../auth/identity';
import { Application } from '../argocd/application-lookup';
import { HeaderConfig } from '../config/types';
import {
  ARGOCD_HEADER_PREFIX,
  CREDENTIAL_HEADERS,
  FORWARDED_HEADERS,
  HEADER_APPLICATION_NAME,
  HEADER_NAMESPACE,
  HEADER_PROJECT_NAME,
  HEADER_TARGET_CLUSTER_NAME,
  HEADER_TARGET_CLUSTER_URL,
  HEADER_USER_GROUPS,
  HEADER_USER_ID,
  HEADER_USERNAME,
  HOP_BY_HOP_HEADERS,
} from './header-names';

export interface UpstreamContext {
  identity: Identity;
  /** Undefined for a request without an application (allowRequestsWithoutApplication). */
  app: Application | undefined;
  /** The namespace Argo CD's control plane runs in (Argocd-Namespace). */
  controlPlaneNamespace: string;
  /** The service's configured headers, `$secret` values already resolved. */
  configuredHeaders: HeaderConfig[];
  /** Host (and port) of the backend, for the Host header. */
  upstreamHost: string;
  /** The address of the peer that sent the request (X-Forwarded-For). */
  clientAddress: string | undefined;
  /** `https` when the sidecar itself terminated TLS. */
  clientProtocol: 'http' | 'https';
  /** A WebSocket upgrade: keep `Connection: Upgrade` and `Upgrade: websocket` for this hop. */
  upgrade?: boolean;
}

/**
 * Step 7: the exact header set the backend receives. Every inbound header is accounted for:
 * - dropped: hop-by-hop headers and any named in Connection (they describe one hop);
 *   Cookie and Authorization (the caller's Argo CD credentials); every `Argocd-*` header
 *   (SECURITY: identity is only ever what the proxy verified); Forwarded/X-Forwarded-*
 *   and X-Real-IP (a client must not choose its apparent address); Host (re-set);
 * - kept: everything else (Accept, Content-Type, Content-Length, custom headers), and
 *   `Transfer-Encoding: chunked` so a streamed request body keeps its framing;
 * - set: the identity headers, Argocd-Application-Name/-Project-Name from the verified
 *   application, X-Forwarded-For/-Host/-Proto like Argo CD's ReverseProxy SetXForwarded,
 *   then the configured headers (validated never to collide with the above).
 */
export function buildUpstreamHeaders(
  inbound: IncomingHttpHeaders,
  ctx: UpstreamContext,
): OutgoingHttpHeaders {
  const connectionListed = listedInConnection(inbound.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name of Object.keys(inbound)) {
    if (
      HOP_BY_HOP_HEADERS.has(name) ||
      connectionListed.has(name) ||
      CREDENTIAL_HEADERS.has(name) ||
      FORWARDED_HEADERS.has(name) ||
      name === 'host' ||
      // The sidecar already answered 100-continue itself (Node's default).
      name === 'expect' ||
      name.startsWith(ARGOCD_HEADER_PREFIX)
    ) {
      continue;
    }
    out[name] = inbound[name];
  }
  if (inbound['transfer-encoding'] !== undefined && inbound['content-length'] === undefined) {
    out['transfer-encoding'] = 'chunked';
  }
  out.host = ctx.upstreamHost;
  if (ctx.upgrade) {
    // Hop-by-hop by nature, but the upgrade must be asked for again on the backend hop.
    out.connection = 'Upgrade';
    out.upgrade = 'websocket';
  }

  for (const [name, value] of identityHeaders(ctx.identity)) out[name] = value;
  if (ctx.app) for (const [name, value] of applicationHeaders(ctx.app)) out[name] = value;
  if (ctx.controlPlaneNamespace) out[HEADER_NAMESPACE] = namespaceHeader(ctx.controlPlaneNamespace);

  if (ctx.clientAddress) out['x-forwarded-for'] = ctx.clientAddress;
  if (typeof inbound.host === 'string') out['x-forwarded-host'] = inbound.host;
  out['x-forwarded-proto'] = ctx.clientProtocol;

  for (const header of ctx.configuredHeaders) out[header.name.toLowerCase()] = header.value;
  return out;
}

type HeaderList = ReadonlyArray<readonly [string, string]>;

/**
 * Identities and applications come from the token and application caches, so the same
 * objects recur request after request: their header values are encoded once. (Weak maps:
 * an entry goes when its cache drops the object.)
 */
const identityHeaderCache = new WeakMap<Identity, HeaderList>();
const applicationHeaderCache = new WeakMap<Application, HeaderList>();

function identityHeaders(identity: Identity): HeaderList {
  let list = identityHeaderCache.get(identity);
  if (!list) {
    list = headerList([
      [HEADER_USERNAME, identity.username],
      [HEADER_USER_ID, identity.userId],
      [HEADER_USER_GROUPS, identity.groups.join(',')],
    ]);
    identityHeaderCache.set(identity, list);
  }
  return list;
}

function applicationHeaders(app: Application): HeaderList {
  let list = applicationHeaderCache.get(app);
  if (!list) {
    list = headerList([
      [HEADER_APPLICATION_NAME, `${app.namespace}:${app.name}`],
      [HEADER_PROJECT_NAME, app.project],
      [HEADER_TARGET_CLUSTER_NAME, app.destination.name],
      [HEADER_TARGET_CLUSTER_URL, app.destination.server],
    ]);
    applicationHeaderCache.set(app, list);
  }
  return list;
}

/** The sidecar's one control-plane namespace, encoded once rather than per request. */
let namespaceHeaderCache: readonly [string, string] | undefined;

function namespaceHeader(namespace: string): string {
  if (namespaceHeaderCache?.[0] !== namespace) {
    namespaceHeaderCache = [namespace, toHeaderValue(HEADER_NAMESPACE, namespace)];
  }
  return namespaceHeaderCache[1];
}

/** The non-empty values, encoded (throws, and caches nothing, on a control character). */
function headerList(values: Array<[string, string | undefined]>): HeaderList {
  const list: Array<readonly [string, string]> = [];
  for (const [name, value] of values) if (value) list.push([name, toHeaderValue(name, value)]);
  return list;
}

/** Response headers from the backend that never reach the browser. */
export function filterResponseHeaders(headers: IncomingHttpHeaders): void {
  for (const name of listedInConnection(headers.connection)) delete headers[name];
  for (const name of HOP_BY_HOP_HEADERS) {
    // Node re-frames the response itself; transfer-encoding is handled by http-proxy.
    if (name !== 'transfer-encoding') delete headers[name];
  }
  for (const name of Object.keys(headers)) {
    if (isOriginPolicyHeader(name)) delete headers[name];
  }
}

/**
 * SECURITY: the backend shares the Argo CD UI's origin. A Set-Cookie from it could overwrite
 * or shadow the argocd.token session cookie (session fixation); an Access-Control-* header
 * could open the UI's origin, with its cookie, to other sites (the extension is same-origin
 * and never needs CORS). Both are dropped from every backend response.
 */
function isOriginPolicyHeader(lowerName: string): boolean {
  return lowerName === 'set-cookie' || lowerName.startsWith('access-control-');
}

/**
 * The same filter as {@link filterResponseHeaders}, for undici's raw response headers
 * (alternating names and values); returns a flat list for `res.writeHead`. Raw names keep
 * the backend's spelling; values pass through as bytes (Latin-1), as Node would send them.
 * Transfer-Encoding goes too: Node frames the body to the client itself.
 */
export function filterRawResponseHeaders(raw: Buffer[]): string[] {
  const out: string[] = [];
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1');
    const lower = name.toLowerCase();
    if (lower === 'connection') {
      const value = raw[i + 1].toString('latin1');
      connection = connection === undefined ? value : `${connection},${value}`;
      continue;
    }
    if (HOP_BY_HOP_HEADERS.has(lower) || isOriginPolicyHeader(lower)) continue;
    out.push(name, raw[i + 1].toString('latin1'));
  }
  if (connection === undefined) return out;
  const listed = listedInConnection(connection);
  if (listed.size === 0) return out;
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) {
    if (!listed.has(out[i].toLowerCase())) kept.push(out[i], out[i + 1]);
  }
  return kept;
}

/**
 * Header names a `Connection` header marks as hop-by-hop.
 *
 * SECURITY: never the framing headers. A client sending `Connection: Content-Length` must
 * not get its body forwarded without a length, where the backend would read the body as a
 * second request (with identity headers of the client's choosing).
 */
function listedInConnection(value: string | string[] | undefined): Set<string> {
  const names = new Set<string>();
  if (value === undefined) return names;
  for (const part of (Array.isArray(value) ? value.join(',') : value).split(',')) {
    const name = part.trim().toLowerCase();
    if (name && !NEVER_CONNECTION_LISTED.has(name)) names.add(name);
  }
  return names;
}

const NEVER_CONNECTION_LISTED = new Set([
  'close',
  'keep-alive',
  'content-length',
  'transfer-encoding',
  'host',
]);

/**
 * An identity value as header bytes. Argo CD (Go) sends UTF-8 bytes; Node writes header
 * strings as Latin-1, so the UTF-8 bytes are passed as a Latin-1 string to send the same.
 *
 * SECURITY: a control character (from a token claim) is refused, not stripped: stripping
 * could turn one group name into another.
 */
function toHeaderValue(name: string, value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
    throw new AuthenticationError(`${name} would contain control characters; refusing the session`);
  }
  return Buffer.from(value, 'utf8').toString('latin1');
}
