import http from 'http';
import { ProxyMetrics } from '../metrics';
import { TunnelInfo } from '../delegate/sidecar/hub';
import type { ConfigProblem } from '../config/settings';

export interface AdminState {
  /** Configuration loaded and not shutting down. */
  ready: () => boolean;
  /** Connected delegate agents, for `/delegates` (and `argocd-extension-proxy delegates`). */
  delegates?: () => TunnelInfo[];
  /** Configuration problems in force (shown by /readyz; they never make it unready). */
  problems?: () => ConfigProblem[];
}

/**
 * /healthz (the process answers), /readyz (a valid configuration is loaded and the
 * process is not draining), /metrics (Prometheus text) and /delegates (connected delegate
 * agents: names, addresses, streams and bytes; never tokens), on their own port so that
 * probes and scrapes never share the extension listener or its checks.
 */
export function createAdminServer(
  metrics: Pick<ProxyMetrics, 'registry'>,
  state: AdminState,
): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendJson(res, 405, { error: 'method not allowed', status: 405 });
    }
    switch (path) {
      case '/healthz':
        return sendJson(res, 200, { status: 'ok' });
      case '/readyz': {
        // Problems never make the sidecar unready: readiness is the argocd-server pod's, and
        // a broken policy denies requests here instead of taking Argo CD's UI away.
        const problems = state.problems?.() ?? [];
        const detail = problems.length > 0 ? { problems } : {};
        return state.ready()
          ? sendJson(res, 200, { status: 'ready', ...detail })
          : sendJson(res, 503, { error: 'not ready', status: 503, ...detail });
      }
      case '/delegates':
        return sendJson(res, 200, { delegates: state.delegates?.() ?? [] });
      case '/metrics':
        metrics.registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': metrics.registry.contentType });
            res.end(text);
          },
          () => sendJson(res, 500, { error: 'metrics unavailable', status: 500 }),
        );
        return;
      default:
        return sendJson(res, 404, { error: 'not found', status: 404 });
    }
  });
}

function sendJson(res: http.ServerResponse, status: number, body: object): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  });
  res.end(payload);
}
