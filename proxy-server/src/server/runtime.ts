import { ProxySettings } from '../config/settings';
import { ServiceConfig } from '../config/types';
import { SessionAuthenticator } from '../auth/session-authenticator';
import { ArgoCDSessionApi } from '../auth/effective-groups';
import { createEnforcer, DENY_EVERY_INVOKE, Enforcer } from '../rbac/enforcer';
import { withDecisionCache } from '../rbac/decision-cache';
import { ForwardFailure, Forwarder } from '../proxy/forwarder';
import { ServiceForwarder } from '../proxy/service-forwarder';
import { DelegateForwarder } from '../delegate/sidecar/delegate-forwarder';
import { DelegateHub } from '../delegate/sidecar/hub';
import { deriveRelayKey } from '../delegate/sidecar/relay-signature';
import { ReplicaRegistry } from '../delegate/sidecar/replica-registry';
import { ProxyMetrics } from '../metrics';
import { RateLimiter } from '../proxy/limits';
import { Logger } from '../logger';

/**
 * Everything built from one configuration reading. A reload builds a new Runtime and swaps
 * it in with one assignment, so a request sees either the old configuration or the new
 * one, never a mix; caches that live here (verified tokens) go with the old one.
 */
export interface Runtime {
  generation: number;
  settings: ProxySettings;
  enforcer: Enforcer;
  authenticator: SessionAuthenticator;
  forwarders: Map<ServiceConfig, Forwarder>;
  /** Signs and checks requests relayed between replicas (derived from server.secretkey). */
  relayKey: Buffer;
  /** Rate limiters of the extensions that have `rateLimit`. */
  rateLimiters: Map<string, RateLimiter>;
}

export async function buildRuntime(
  settings: ProxySettings,
  generation: number,
  deps: {
    logger: Logger;
    metrics: ProxyMetrics;
    delegates: DelegateHub;
    /** Where other replicas are (--redis); undefined when delegates are per replica. */
    registry?: ReplicaRegistry;
    onForwardFailure: ForwardFailure;
    /** Asks Argo CD for SSO groups it replaces (auth/effective-groups.ts). */
    argocdApi?: ArgoCDSessionApi;
  },
): Promise<Runtime> {
  const enforcer = settings.rbac
    ? withDecisionCache(await createEnforcer(settings.rbac), (name) =>
        settings.extensions.has(name),
      )
    : DENY_EVERY_INVOKE;
  const authenticator = new SessionAuthenticator(settings.auth, {
    logger: deps.logger,
    argocdApi: deps.argocdApi,
  });
  const relayKey = deriveRelayKey(settings.auth.secretKey);
  const relay = deps.registry && { registry: deps.registry, key: () => relayKey };
  const forwarders = new Map<ServiceConfig, Forwarder>();
  const rateLimiters = new Map<string, RateLimiter>();
  for (const extension of settings.extensions.values()) {
    // Refused at the route stage (503): nothing to connect to.
    if (extension.unavailable) continue;
    const { rateLimit } = extension.backend;
    if (rateLimit.perUser || rateLimit.perExtension) {
      rateLimiters.set(extension.name, new RateLimiter(rateLimit));
    }
    const observer = deps.metrics.forwardObserver(extension.name);
    for (const service of extension.backend.services) {
      const { delegate } = service;
      forwarders.set(
        service,
        delegate === undefined
          ? new ServiceForwarder(service, extension.backend, deps.onForwardFailure, observer)
          : new DelegateForwarder(
              { ...service, delegate },
              extension.backend,
              deps.delegates,
              deps.metrics,
              deps.onForwardFailure,
              relay,
            ),
      );
    }
  }
  return { generation, settings, enforcer, authenticator, forwarders, relayKey, rateLimiters };
}

/** Lets in-flight requests of a replaced runtime finish, then frees its connections. */
export function retireRuntime(runtime: Runtime): void {
  for (const forwarder of runtime.forwarders.values()) forwarder.retire();
}
