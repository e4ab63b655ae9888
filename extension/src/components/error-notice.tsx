import * as React from 'react';

import type { AnomalyApiError } from '../api/anomaly-client';
import { describeError } from '../model/error-message';

export interface ErrorNoticeProps {
  error: AnomalyApiError;
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
      {message.policy && <code aria-label="Policy line">{message.policy}</code>}
      {message.serverMessage && (
        <p className="ae-muted">
          Server said: {message.serverMessage} (HTTP {error.status})
        </p>
      )}
    </div>
  );
}
