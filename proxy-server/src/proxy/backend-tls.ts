import tls from 'tls';
import { ServiceConfig } from '../config/types';

/** The TLS side of a connection to the service's URLs: ALPN, SNI and verification aside. */
export type TlsOptions = Pick<
  tls.ConnectionOptions,
  'secureContext' | 'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized'
>;

/**
 * One secure context per service (its CA, client certificate and key, parsed once), shared
 * by the undici pools of every URL and the WebSocket agent; without it, Node parses them
 * again for each new connection.
 */
export function createTlsOptions(service: ServiceConfig): TlsOptions {
  const config = service.tls;
  const pem = { ca: config?.ca, cert: config?.cert, key: config?.key };
  const verify = {
    servername: config?.serverName,
    rejectUnauthorized: !config?.insecureSkipVerify,
  };
  try {
    return { secureContext: tls.createSecureContext(pem), ...verify };
  } catch {
    // A CA, certificate or key Node cannot load fails each connection (a 502 that says why),
    // as it would without the shared context, rather than the whole configuration.
    return { ...pem, ...verify };
  }
}
