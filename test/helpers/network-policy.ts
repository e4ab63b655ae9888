/**
 * The relay port's rule, checked on both installs (the kustomize Component and the Helm
 * values): only other argocd-server pods may reach it, and they must be able to.
 */
export const RELAY_PORT = 8092;

const SERVER_PODS = { 'app.kubernetes.io/name': 'argocd-server' };

interface Peer {
  podSelector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  namespaceSelector?: unknown;
  ipBlock?: unknown;
}
interface IngressRule {
  from?: Peer[];
  ports?: Array<{ port?: number | string; protocol?: string }>;
}
export interface NetworkPolicySpec {
  podSelector?: { matchLabels?: Record<string, string> };
  ingress?: IngressRule[];
}

/** Exactly the argocd-server pods' label. */
function isServerPodLabels(labels: Record<string, string> | undefined): boolean {
  return JSON.stringify(labels) === JSON.stringify(SERVER_PODS);
}

/** Only the argocd-server pods of the policy's own namespace, and nothing else. */
function isServerPods(peer: Peer): boolean {
  return (
    peer.namespaceSelector === undefined &&
    peer.ipBlock === undefined &&
    peer.podSelector?.matchExpressions === undefined &&
    isServerPodLabels(peer.podSelector?.matchLabels)
  );
}

/** Why `spec` does not keep the relay port to argocd-server pods; [] when it does. */
export function relayPortProblems(spec: NetworkPolicySpec): string[] {
  const problems: string[] = [];
  if (!isServerPodLabels(spec.podSelector?.matchLabels)) {
    problems.push('the policy does not select the argocd-server pods');
  }
  let peersAdmitted = false;
  for (const [i, rule] of (spec.ingress ?? []).entries()) {
    // A rule without ports admits every port; one without peers admits every source.
    const admitsRelay = !rule.ports?.length || rule.ports.some((p) => p.port === RELAY_PORT);
    if (!admitsRelay) continue;
    if (!rule.from?.length) {
      problems.push(`ingress rule ${i} admits port ${RELAY_PORT} from anywhere`);
      continue;
    }
    for (const peer of rule.from) {
      if (isServerPods(peer)) peersAdmitted = true;
      else
        problems.push(`ingress rule ${i} admits port ${RELAY_PORT} from ${JSON.stringify(peer)}`);
    }
  }
  if (!peersAdmitted) problems.push(`no rule admits the argocd-server pods to port ${RELAY_PORT}`);
  return problems;
}
