import { createHash, timingSafeEqual } from 'crypto';

/**
 * Names and constants of the delegate tunnel, shared by the sidecar and the agent. The
 * protocol (the upgrade request, the 101, the frames, streams, flow control, pings, GOAWAY,
 * error mapping and the versioning rule) is specified once, in docs/delegates.md, "The
 * tunnel protocol, version 2"; a change to the wire format changes that section and
 * UPGRADE_PROTOCOL together.
 *
 * `.delegate` in CONNECT_PATH can never be an extension name, so the agent's upgrade rides
 * the Ingress rule that already sends `<root path>/extensions/` to the sidecar, and the
 * request pipeline never sees it.
 */
export const CONNECT_PATH = '/extensions/.delegate/connect';
export const UPGRADE_PROTOCOL = 'argocd-extension-proxy-delegate/2';
/** Version 1 of the protocol: refused with a message that says what to do. */
export const OLD_UPGRADE_PROTOCOL = 'argocd-extension-proxy-delegate';
export const NAME_HEADER = 'argocd-extension-proxy-delegate';
/** Sent by the agent on connect: a stable id for listings (host name and process). */
export const AGENT_ID_HEADER = 'argocd-extension-proxy-agent';

/**
 * Stream headers between sidecar and agent. Every header with this prefix is control data:
 * the agent removes them all before forwarding, the sidecar before answering the client.
 */
export const CONTROL_PREFIX = 'argocd-extension-proxy-';
/** Sidecar → agent: the service's connection timeout in ms. */
export const CONNECT_TIMEOUT_HEADER = 'argocd-extension-proxy-connect-timeout';
/** Sidecar → agent: this stream is a WebSocket upgrade. */
export const UPGRADE_HEADER = 'argocd-extension-proxy-upgrade';
/** Agent → sidecar: the backend answered 101; from here on the stream carries raw bytes. */
export const UPGRADED_HEADER = 'argocd-extension-proxy-upgraded';
/** Agent → sidecar: the agent could not forward; one of DelegateErrorCode. */
export const ERROR_HEADER = 'argocd-extension-proxy-error';

export type DelegateErrorCode =
  'host-not-allowed' | 'bad-request' | 'unreachable' | 'connect-timeout';

/** Hop-by-hop request headers (RFC 9110 §7.6.1), and those that are ours to set. */
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
  'te',
]);

/** Whether a header name must not be copied onto (or off) a tunnel stream. */
export function isConnectionSpecific(name: string): boolean {
  return CONNECTION_SPECIFIC.has(name) || name.startsWith(':') || name.startsWith(CONTROL_PREFIX);
}

/** Compares two secrets without leaking, through timing, how much of them matched. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
