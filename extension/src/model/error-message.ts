import type { AnomalyApiError } from '../api/anomaly-client';

export interface ErrorMessage {
  title: string;
  /** What to do about it. */
  advice: string;
  /** On a 403: the permission the user lacks. */
  requiredPermission?: string;
  /** On a 403: the argocd-rbac-cm line that would grant it. */
  policy?: string;
  /** The server's own short message, when it sent one. */
  serverMessage?: string;
  /** On a 401: offer Argo CD's login page (the tab's own request bypasses the UI's redirect). */
  login?: boolean;
}

/** Explains an API error in terms of what the user (or their admin) can do. */
export function describeError(error: AnomalyApiError): ErrorMessage {
  const serverMessage = error.body?.error;
  switch (error.status) {
    case 0:
      return {
        title: 'The request got no answer',
        advice: 'Check your network connection, then refresh.',
      };
    case 401:
      return {
        title: 'Your Argo CD session has ended',
        advice: 'It expired, or you logged out. Log in to Argo CD again to come back to this tab.',
        login: true,
        serverMessage,
      };
    case 403:
      return {
        title: 'You are not allowed to see anomalies here',
        advice: error.body?.requiredPermission
          ? 'Ask an Argo CD admin to add this line to policy.csv in argocd-rbac-cm:'
          : 'Ask an Argo CD admin for access to this application and extension.',
        requiredPermission: error.body?.requiredPermission,
        policy: error.body?.policy,
        serverMessage,
      };
    case 404:
      return {
        title: 'The anomaly extension is not configured',
        advice: 'An admin must register the "anomaly" extension in argocd-cm extension.config.',
        serverMessage,
      };
    case 502:
    case 503:
    case 504:
      return {
        title:
          error.status === 504
            ? 'The anomaly backend did not answer in time'
            : 'The anomaly backend is unreachable',
        advice:
          'The backend (or the delegate that connects to it) is down or unreachable. ' +
          'Try again later; if it persists, tell the team that runs the anomaly backend.',
        serverMessage,
      };
    default:
      return {
        title: `The request failed (HTTP ${error.status})`,
        advice: 'Refresh to try again.',
        serverMessage,
      };
  }
}
