import * as React from 'react';

import type { AnomalyApiError } from '../api/anomaly-client';
import { describeError } from '../model/error-message';

export interface ErrorNoticeProps {
  error: AnomalyApiError;
}

/**
 * Argo CD's login page, returning here: `<base>login?return_url=<this page>` (the UI's own
 * 401 handling in app.tsx goes to the same route).
 */
function loginUrl(): string {
  return `${new URL('login', document.baseURI).href}?return_url=${encodeURIComponent(window.location.href)}`;
}

/** An error that says what happened and what to do about it. */
export function ErrorNotice({ error }: ErrorNoticeProps): React.ReactElement {
  const message = describeError(error);
  return (
    <div className="ae-notice ae-error" role="alert">
      <h3>
        <i className="fa fa-exclamation-circle" aria-hidden="true" /> {message.title}
      </h3>
      {message.requiredPermission && (
        <p>
          Missing permission: <strong>{message.requiredPermission}</strong>
        </p>
      )}
      <p>{message.advice}</p>
      {message.login && (
        <p>
          <a className="argo-button argo-button--base" href={loginUrl()}>
            Log in
          </a>
        </p>
      )}
      {message.policy && <code aria-label="Policy line">{message.policy}</code>}
      {message.serverMessage && (
        <p className="ae-muted">
          Server said: {message.serverMessage} (HTTP {error.status})
        </p>
      )}
    </div>
  );
}
