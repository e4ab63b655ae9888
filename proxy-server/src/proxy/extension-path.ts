import { InputError } from '../errors';

/** Every extension request path starts with this (Argo CD's extension.URLPrefix). */
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

/**
 * Splits a request target into extension name, remaining path and query, and refuses any
 * path that could reach outside the extension's backend path.
 *
 * SECURITY: the name is matched raw (no decoding), so `%2e%2e`, encoded slashes and the
 * like can never form a name. Each segment of the rest is decoded once and rejected if it
 * is `.` or `..`, contains a slash or backslash in any form, a control character, or is
 * itself still percent-encoded (double encoding). Rejection is a 400, never a rewrite: a
 * rewritten path would make the backend and the proxy disagree about what was asked.
 */
export function parseExtensionPath(requestTarget: string): ExtensionTarget {
  if (!requestTarget.startsWith(EXTENSIONS_PREFIX)) {
    throw new InputError(`path must start with ${EXTENSIONS_PREFIX}<extension-name>`);
  }
  const q = requestTarget.indexOf('?');
  const path = q === -1 ? requestTarget : requestTarget.slice(0, q);
  const query = q === -1 ? '' : requestTarget.slice(q);
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
