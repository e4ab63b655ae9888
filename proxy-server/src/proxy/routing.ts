import { InputError } from '../errors';
import { ExtensionConfig, ServiceConfig } from '../config/types';

/**
 * Step 6: which service answers for this application. One service serves every
 * application; with several, the application's destination selects the one whose cluster
 * matches, like Argo CD's findProxy: by name, by server, or by both when the service sets
 * both.
 */
export function resolveService(
  extension: ExtensionConfig,
  destination: { name?: string; server?: string },
): ServiceConfig {
  const services = extension.backend.services;
  if (services.length === 1) return services[0];
  const match = services.find((svc) => {
    const cluster = svc.cluster;
    if (!cluster) return false;
    if (cluster.name && cluster.server) {
      // Argo CD registers such a service under name, under server, and under both.
      return (
        (destination.name === cluster.name && !destination.server) ||
        (destination.server === cluster.server && !destination.name) ||
        (destination.name === cluster.name && destination.server === cluster.server)
      );
    }
    if (cluster.name) return destination.name === cluster.name && !destination.server;
    return destination.server === cluster.server && !destination.name;
  });
  if (!match) {
    // Argo CD answers 400 here too (CallExtension: "invalid extension").
    throw new InputError(
      `extension ${extension.name} has no backend for the application's destination cluster`,
    );
  }
  return match;
}
