import { Counter, Gauge, Registry } from 'prom-client';

/** The agent's own metrics (served on its admin port). */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly connected = new Gauge({
    name: 'argocd_extension_proxy_agent_connected',
    help: '1 while the tunnel to the sidecar is up.',
    registers: [this.registry],
  });
  readonly connects = new Counter({
    name: 'argocd_extension_proxy_agent_connects_total',
    help: 'Connection attempts to the sidecar, by result (connected, refused, failed).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly streams = new Gauge({
    name: 'argocd_extension_proxy_agent_streams',
    help: 'Requests being carried now.',
    registers: [this.registry],
  });
  readonly requests = new Counter({
    name: 'argocd_extension_proxy_agent_requests_total',
    help: 'Requests from the sidecar, by result (forwarded, refused, failed).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
}
