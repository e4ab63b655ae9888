import * as React from 'react';

import { useOverview, type OverviewRow } from '../hooks/use-overview';
import { formatScore } from '../model/format';
import { applicationKey, projectsOf, rowState, sortedRows } from '../model/overview';
import { resourceTabHref } from '../model/workloads';
import { ErrorNotice } from './error-notice';
import { ROOT_CLASS, ScopedStyles } from './scoped-styles';

const ALL = '';

function Row({ row }: { row: OverviewRow }): React.ReactElement {
  const { application } = row;
  const { namespace, name } = application.metadata;
  const state = rowState(row);
  let cell: React.ReactNode;
  let worst: React.ReactNode = null;
  switch (state.kind) {
    case 'anomalous':
    case 'normal':
    case 'unknown':
      cell = (
        <span className={`ae-state--${state.kind}`}>
          {state.kind === 'anomalous'
            ? `Score ${formatScore(state.maxScore)}`
            : state.kind === 'normal'
              ? 'Normal'
              : 'No data'}
        </span>
      );
      if (state.kind === 'anomalous' && state.worst) {
        const w = state.worst;
        worst = (
          <a href={resourceTabHref(application, w.resource)}>
            {w.worst?.label ?? 'Anomaly'} in {w.resource.kind} {w.resource.name}
          </a>
        );
      }
      break;
    case 'error':
      cell = <span className="ae-state--unknown">Unavailable</span>;
      worst = <span className="ae-muted">{state.message}</span>;
      break;
    case 'pending':
      cell = <span className="ae-state--unknown">…</span>;
      break;
    case 'no-workloads':
      cell = <span className="ae-state--unknown">No workloads</span>;
      break;
  }
  return (
    <tr data-application={`${namespace}/${name}`}>
      <td>
        <a
          href={`applications/${encodeURIComponent(namespace ?? '')}/${encodeURIComponent(name ?? '')}`}
        >
          {name}
        </a>
      </td>
      <td>{application.spec.project}</td>
      <td>{cell}</td>
      <td>{worst}</td>
    </tr>
  );
}

/**
 * The system-level page (the "Anomalies" entry in Argo CD's sidebar): every application the
 * user can see, most anomalous first, with the workload and metric behind each score.
 */
export function AnomalyOverview(): React.ReactElement {
  const load = useOverview();
  const [project, setProject] = React.useState(ALL);
  const rows = load.phase === 'scoring' || load.phase === 'done' ? load.rows : undefined;
  const projects = React.useMemo(() => (rows ? projectsOf(rows) : []), [rows]);
  const shown = React.useMemo(
    () => (rows ? sortedRows(rows, project === ALL ? undefined : project) : []),
    [rows, project],
  );

  let body: React.ReactNode;
  if (load.phase === 'listing') {
    body = <p aria-busy="true">Loading your applications…</p>;
  } else if (load.phase === 'failed') {
    body = <ErrorNotice error={load.error} />;
  } else {
    body = (
      <>
        {load.stopped && <ErrorNotice error={load.stopped} />}
        <table className="ae-overview">
          <thead>
            <tr>
              <th scope="col">Application</th>
              <th scope="col">Project</th>
              <th scope="col">Last hour</th>
              <th scope="col">Worst workload</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((row) => (
              <Row key={applicationKey(row)} row={row} />
            ))}
          </tbody>
        </table>
        {shown.length === 0 && <p>No applications to show.</p>}
      </>
    );
  }
  return (
    <div className={ROOT_CLASS} data-anomaly-overview="" aria-busy={load.phase !== 'done'}>
      <ScopedStyles />
      <div className="ae-toolbar">
        <h2>Anomalies across your applications, in the last hour</h2>
        {rows && (
          <label>
            Project{' '}
            <select value={project} onChange={(e) => setProject(e.target.value)}>
              <option value={ALL}>All projects</option>
              {projects.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {(load.phase === 'scoring' || load.phase === 'done') && (
        <p className="ae-progress" role="status">
          <progress value={load.scored} max={Math.max(1, load.total)} />{' '}
          {load.phase === 'done'
            ? `Scored ${load.scored} of ${load.total} applications with workloads.`
            : `Scoring ${load.scored} of ${load.total} applications with workloads…`}
        </p>
      )}
      {body}
    </div>
  );
}
