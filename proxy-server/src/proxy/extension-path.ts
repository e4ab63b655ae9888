import { InputError, NotFoundError } from '../errors';

/**
 * Every extension request path starts with this (Argo CD's extension.URLPrefix), after
 * the root path when Argo CD runs under one.
 */
export const EXTENSIONS_PREFIX = '/extensions/';

/** The parts of `/extensions/<name>/<rest>?<query>`. */
export interface ExtensionTarget {
  /** Matches `^[A-Za-z0-9-_]+$` (checked here, so it is safe in logs and metric labels). */
  name: string;
  /** The raw path after the name: '' or starting with '/'. Safe: see parseExtensionPath. */
  rest: string;
  /** The raw query string including '?', or ''. Passed through untouched. */
  query: string;
}

const NAME = /^[A-Za-z0-9_-]+$/;
/** Far above any real extension name; keeps names cheap to log, cache and compare. */
const MAX_NAME_LENGTH = 253;
const PERCENT_TRIPLET = /%[0-9A-Fa-f]{2}/;

/** One root path segment: RFC 3986 `pchar` without percent-encoding. */
const ROOT_SEGMENT = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]+$/;

/**
 * Argo CD's `server.rootpath` (`--rootpath`, ARGOCD_SERVER_ROOTPATH) as the sidecar
 * compares it: `argocd`, `/argocd` and `/argocd/` all mean `/argocd`, and `''` or `/` mean
 * no root path, because argocd-server trims the slashes too (server.go withRootPath).
 * Anything that is not a plain path is refused: the sidecar matches the root path byte for
 * byte, so a URL, a query, `..` or a percent-encoding would only ever match nothing, or
 * something other than what argocd-server serves.
 */
export function normalizeRootPath(text: string): string {
  const trimmed = text.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(trimmed)) {
    throw new InputError(`must be a path like /argocd, not a URL: ${JSON.stringify(text)}`);
  }
  for (const segment of trimmed.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw new InputError(
        `must be a path like /argocd, without empty, "." or ".." segments: ${JSON.stringify(text)}`,
      );
    }
    if (!ROOT_SEGMENT.test(segment)) {
      throw new InputError(
        `must be a path like /argocd: letters, digits and -._~!$&'()*+,;=:@ between slashes (no spaces, query, fragment or percent-encoding): ${JSON.stringify(text)}`,
      );
    }
  }
  return `/${trimmed}`;
}

/**
 * Splits a request target into extension name, remaining path and query, and refuses any
 * path that could reach outside the extension's backend path.
 *
 * `rootPath` is a normalised root path (normalizeRootPath: `''` or `/argocd`). With one,
 * only `<rootPath>/extensions/<name>...` is an extension request; any other path is a 404,
 * as argocd-server's root mux answers it, and a path inside the root is parsed exactly as
 * one without a root path (the backend never sees the root path).
 *
 * SECURITY: the name is matched raw (no decoding), so `%2e%2e`, encoded slashes and the
 * like can never form a name. Each segment of the rest is decoded once and rejected if it
 * is `.` or `..`, contains a slash or backslash in any form, a control character, or is
 * itself still percent-encoded (double encoding). Rejection is a 400, never a rewrite: a
 * rewritten path would make the backend and the proxy disagree about what was asked.
 */
export function parseExtensionPath(requestTarget: string, rootPath = ''): ExtensionTarget {
  let target = requestTarget;
  if (rootPath !== '') {
    // '/' must follow the root: `/argocdx/...` is outside `/argocd`.
    if (!target.startsWith(rootPath) || target.charCodeAt(rootPath.length) !== 0x2f) {
      throw new NotFoundError(
        `path is outside the root path ${rootPath}: extension requests go to ${rootPath}${EXTENSIONS_PREFIX}<extension-name>/...`,
      );
    }
    target = target.slice(rootPath.length);
  }
  if (!target.startsWith(EXTENSIONS_PREFIX)) {
    throw new InputError(`path must start with ${rootPath}${EXTENSIONS_PREFIX}<extension-name>`);
  }
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q);
  const afterPrefix = path.slice(EXTENSIONS_PREFIX.length);
  const slash = afterPrefix.indexOf('/');
  const name = slash === -1 ? afterPrefix : afterPrefix.slice(0, slash);
  const rest = slash === -1 ? '' : afterPrefix.slice(slash);
  if (name === '') throw new InputError('extension name is missing from the path');
  if (name.length > MAX_NAME_LENGTH) throw new InputError('extension name is too long');
  if (!NAME.test(name)) {
    throw new InputError('extension name may only contain letters, digits, "-" and "_"');
  }
  checkRestIsContained(rest);
  if (/[\s#\\]/.test(query) || hasControlCharacter(query)) {
    throw new InputError('query string contains characters that must be percent-encoded');
  }
  return { name, rest, query };
}

function checkRestIsContained(rest: string): void {
  if (rest.includes('\\')) throw new InputError('path must not contain a backslash');
  for (const raw of rest.split('/').slice(1)) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      throw new InputError('path contains an invalid percent-encoding');
    }
    // `..;x` is `..` to Tomcat, Jetty and Spring (path parameters): refuse it too.
    const beforeParameters = segment.split(';')[0];
    if (beforeParameters === '.' || beforeParameters === '..') {
      throw new InputError('path must not contain "." or ".." segments');
    }
    if (segment.includes('/') || segment.includes('\\')) {
      throw new InputError('path must not contain an encoded slash or backslash');
    }
    if (PERCENT_TRIPLET.test(segment)) {
      throw new InputError('path must not be percent-encoded twice');
    }
    if (hasControlCharacter(segment)) {
      throw new InputError('path must not contain control characters');
    }
  }
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * The backend path: the service URL's own path, then the rest. Argo CD drops the service
 * path; keeping it lets one host serve several extensions under different prefixes.
 * Example: service `http://svc/api`, request `/extensions/x/v1/a?b=1` → `/api/v1/a?b=1`
 */
export function joinUpstreamPath(servicePath: string, target: ExtensionTarget): string {
  const base = servicePath.endsWith('/') ? servicePath.slice(0, -1) : servicePath;
  const path = base + target.rest;
  return (path === '' ? '/' : path) + target.query;
}
