import { IncomingHttpHeaders } from 'http';
import { InputError } from '../errors';
import { HEADER_APPLICATION_NAME, HEADER_PROJECT_NAME } from './header-names';

/** The application a request is about, from the Argocd-* request headers. */
export interface ApplicationRef {
  namespace: string;
  name: string;
  project: string;
}

/** Kubernetes DNS-1123 label: namespace names (Argo CD's argo.IsValidNamespaceName). */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Kubernetes DNS-1123 subdomain: application and project names (argo.IsValidPodName). */
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Step 3: `Argocd-Application-Name: <namespace>:<app>` and `Argocd-Project-Name: <project>`
 * must be present and well-formed, with the same rules as Argo CD's ValidateHeaders.
 */
export function validateApplicationHeaders(headers: IncomingHttpHeaders): ApplicationRef {
  const appHeader = singleHeader(headers, HEADER_APPLICATION_NAME, 'Argocd-Application-Name');
  const parts = appHeader.split(':');
  if (parts.length !== 2) {
    throw new InputError('header Argocd-Application-Name must be "<namespace>:<app-name>"');
  }
  const [namespace, name] = parts;
  if (namespace.length > 63 || !DNS1123_LABEL.test(namespace)) {
    throw new InputError('header Argocd-Application-Name has an invalid namespace');
  }
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    throw new InputError('header Argocd-Application-Name has an invalid application name');
  }
  const project = singleHeader(headers, HEADER_PROJECT_NAME, 'Argocd-Project-Name');
  if (project.length > 253 || !DNS1123_SUBDOMAIN.test(project)) {
    throw new InputError('header Argocd-Project-Name has an invalid project name');
  }
  return { namespace, name, project };
}

/**
 * Whether the request names an application at all (either header, even empty): only a
 * request with neither may take an extension's `allowRequestsWithoutApplication` path; one
 * with a half or malformed pair is validated, and refused, as always.
 */
export function carriesApplicationHeaders(headers: IncomingHttpHeaders): boolean {
  return (
    headers[HEADER_APPLICATION_NAME] !== undefined || headers[HEADER_PROJECT_NAME] !== undefined
  );
}

function singleHeader(headers: IncomingHttpHeaders, key: string, display: string): string {
  const value = headers[key];
  if (value === undefined || value === '') {
    throw new InputError(`header ${display} must be provided`);
  }
  // Node joins repeated custom headers with ", "; a comma is never valid in these values,
  // so a repeated header fails the format checks above instead of being half-used.
  if (Array.isArray(value)) throw new InputError(`header ${display} must be given once`);
  return value;
}
