import * as React from 'react';

/** Shown when the backend answers from its bundled sample data, not from Prometheus. */
export function SampleDataNotice(): React.ReactElement {
  return (
    <div className="ae-notice" role="note" aria-label="Sample data">
      <strong>Sample data.</strong> The anomaly backend is running on its bundled sample data, not
      on this resource&apos;s metrics: the figures below are not real.
    </div>
  );
}
