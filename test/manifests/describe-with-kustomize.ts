import { kustomizeUnavailableReason } from '../helpers/kustomize';

/**
 * Components (kustomize v3.7) and path `patches` are what kubectl 1.21+ embeds; Debian
 * bookworm's kubernetes-client is kubectl 1.20.2 (kustomize v2.0.3), which renders neither.
 */
const HOW_TO_GET_KUBECTL =
  'it needs kubectl 1.21 or newer (kustomize v4+, for Components) on PATH: ' +
  'https://kubernetes.io/docs/tasks/tools/#kubectl ' +
  "(Debian bookworm's kubernetes-client package is kubectl 1.20 and cannot render Components)";

/**
 * `describe` for suites that render with `kubectl kustomize`; where it cannot, the suite is
 * skipped and the reason printed with how to get a kubectl that can. Render in `beforeAll`
 * (a skipped suite's body still runs to collect its tests).
 */
export function describeWithKustomize(name: string, suite: () => void): void {
  const reason = kustomizeUnavailableReason();
  if (reason === null) {
    describe(name, suite);
    return;
  }
  process.stdout.write(`skipping "${name}": ${reason}; ${HOW_TO_GET_KUBECTL}\n`);
  describe.skip(name, suite);
}
