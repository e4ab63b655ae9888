import * as React from 'react';

import { getResourceTabs } from './extensions-api';
import { SAMPLE_APPLICATION, SAMPLE_RESOURCES, SAMPLE_TREE } from './sample-app';

/** What the fixture server can answer; chosen with `?scenario=`, sent as a cookie. */
export const SCENARIOS = [
  'ok',
  'sample',
  'normal',
  'empty',
  'slow',
  '401',
  '403',
  '404',
  '502',
  '503',
  '504',
];

interface HostAppProps {
  params: URLSearchParams;
}

/** A small stand-in for Argo CD's resource details panel, rendering extension tabs. */
export function HostApp({ params }: HostAppProps): React.ReactElement {
  const selected =
    SAMPLE_RESOURCES.find((r) => r.key === params.get('resource')) ?? SAMPLE_RESOURCES[1];
  const tabs = getResourceTabs(selected.group, selected.state.kind ?? '');
  const [tab, setTab] = React.useState(params.get('tab') ?? 'summary');
  const link = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    Object.entries(changes).forEach(([k, v]) => next.set(k, v));
    return `?${next.toString()}`;
  };
  const theme = params.get('theme') === 'dark' ? 'dark' : 'light';
  const active = tabs.find((t) => slug(t.title) === tab);

  return (
    <div className={`host theme-${theme}`}>
      <header className="host-header">
        <strong>Extension dev host</strong> · React{' '}
        <span data-testid="react-version">{React.version}</span>
        {' · '}
        <a href={link({ react: '16' })}>React 16</a> | <a href={link({ react: '19' })}>React 19</a>
        {' · '}
        <a href={link({ theme: theme === 'dark' ? 'light' : 'dark' })}>
          {theme === 'dark' ? 'Light' : 'Dark'} theme
        </a>
        {' · '}
        <label>
          Backend answers{' '}
          <select
            value={params.get('scenario') ?? 'ok'}
            onChange={(e) => window.location.assign(link({ scenario: e.target.value }))}
          >
            {SCENARIOS.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
      </header>
      <div className="host-body">
        <nav aria-label="Resources" className="host-nav">
          {SAMPLE_RESOURCES.map((r) => (
            <a
              key={r.key}
              href={link({ resource: r.key })}
              aria-current={r === selected ? 'page' : undefined}
            >
              {r.state.kind} {r.state.metadata.name}
            </a>
          ))}
        </nav>
        <main className="host-details">
          <h1>
            {selected.state.kind} {selected.state.metadata.name}
          </h1>
          <div role="tablist" aria-label="Resource tabs" className="host-tabs">
            {[{ title: 'Summary' }, ...tabs].map((t) => (
              <button
                key={t.title}
                type="button"
                role="tab"
                aria-selected={(active ? slug(active.title) : 'summary') === slug(t.title)}
                onClick={() => setTab(slug(t.title))}
              >
                {t.title}
              </button>
            ))}
          </div>
          <div role="tabpanel" className="host-panel">
            {active ? (
              <ErrorBoundary>
                <active.component
                  resource={selected.state}
                  tree={SAMPLE_TREE}
                  application={SAMPLE_APPLICATION}
                />
              </ErrorBoundary>
            ) : (
              <div className="white-box">Built-in summary of {selected.state.metadata.name}.</div>
            )}
          </div>
        </main>
      </div>
    </div>
  );
}

function slug(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

/** Argo CD wraps each extension tab in an error boundary like this one. */
class ErrorBoundary extends React.Component<{ children: React.ReactNode }, { error?: Error }> {
  state: { error?: Error } = {};

  static getDerivedStateFromError(error: Error): { error: Error } {
    return { error };
  }

  render(): React.ReactNode {
    if (this.state.error) {
      return (
        <div data-testid="extension-crashed">
          Something went wrong with the extension: {String(this.state.error)}
        </div>
      );
    }
    return this.props.children;
  }
}
