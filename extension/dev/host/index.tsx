// The development host: provides what Argo CD's UI provides to extensions
// (ui/src/app/index.tsx and extensions-service.ts), then renders a resource view.
import * as Moment from 'moment';
import * as React from 'react';
import * as ReactDOM from 'react-dom';
import { renderInto } from 'host-render';

import { extensionsAPI } from './extensions-api';
import { HostApp } from './host-app';

const host = window as unknown as Record<string, unknown>;
host.React = React;
host.ReactDOM = ReactDOM;
host.Moment = Moment;
host.extensions = { resources: {} };
host.extensionsAPI = extensionsAPI;
host.__hostReactMajor = __REACT_MAJOR__;

const params = new URLSearchParams(window.location.search);
// The fixture server picks its answer from this cookie, which the browser sends with the
// extension's request just as it sends argocd.token.
document.cookie = `anomaly-fixture=${encodeURIComponent(params.get('scenario') ?? 'ok')}; path=/`;

// extensions.js is loaded with `defer`, like in Argo CD, so it has run (and registered
// its tabs) by DOMContentLoaded.
window.addEventListener('DOMContentLoaded', () => {
  const container = document.getElementById('app');
  if (container) renderInto(container, <HostApp params={params} />);
});
