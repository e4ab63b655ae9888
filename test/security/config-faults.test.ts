import {
  appHeaders,
  BACKEND_SECRET,
  DEFAULT_POLICY,
  Environment,
  extensionConfig,
} from '../helpers/environment';
import { eventually, request } from '../helpers/http-client';
import { localSession, TEST_SERVER_SECRET } from '../helpers/local-tokens';

/**
 * Configuration faults at run time: each broken change (bad YAML, a reference to a missing
 * argocd-secret key, a removed server key, a malformed policy line) is refused the way Argo
 * CD refuses it, object by object and never more loosely: a broken extension.config or
 * argocd-secret keeps the previous one, a missing `$key` fails its extension (503), a policy
 * that cannot be loaded denies every invoke. No secret value may appear in any log line or
 * response. Prints cases tried / refused as expected / leaks.
 */
describe('configuration faults', () => {
  const env = new Environment();
  const CANARY = 'canary-secret-value-7e41c0';
  const tally = { tried: 0, rejected: 0, leaks: 0 };
  const alice = localSession('alice');
  const bob = localSession('bob');
  const responses: string[] = [];

  const call = async (token: string) => {
    const reply = await request(`${env.sidecar.url}/extensions/anomaly/`, {
      headers: { cookie: `argocd.token=${token}`, ...appHeaders('argocd:guestbook', 'default') },
    });
    responses.push(reply.body);
    return reply;
  };
  const rejections = () =>
    env.sidecar.logs().filter((l) => String(l.msg).startsWith('configuration problem in ')).length;
  const goodCm = () => ({
    'extension.config': extensionConfig(env.backend.url, env.secondBackend.url),
  });
  const goodSecret = {
    'server.secretkey': TEST_SERVER_SECRET,
    'anomaly.token': BACKEND_SECRET,
    'leak.canary': CANARY,
  };

  /**
   * Applies a broken change and expects it refused with `aliceGets` for alice (200: the
   * previous configuration kept, with the previous backend secret); bob is never let in;
   * then restores and waits until alice is served again.
   */
  const fault = async (apply: () => void, restore: () => void, aliceGets: 200 | 403 | 503) => {
    tally.tried++;
    const before = rejections();
    apply();
    await eventually(() => expect(rejections()).toBeGreaterThan(before), 5000);
    const reply = await call(alice);
    expect(reply.status).toBe(aliceGets);
    if (aliceGets === 200) {
      expect((reply.json.headers as Record<string, string>).authorization).toBe(BACKEND_SECRET);
    }
    expect((await call(bob)).status).toBe(403);
    expect((await request(`${env.sidecar.adminUrl}/readyz`)).status).toBe(200);
    tally.rejected++;
    restore();
    await eventually(async () => expect((await call(alice)).status).toBe(200), 5000);
  };

  beforeAll(() => env.start({ secret: { 'leak.canary': CANARY } }));
  afterAll(async () => {
    process.stdout.write(
      `security/config: ${tally.tried} cases tried, ${tally.rejected} refused as expected, ${tally.leaks} leaks\n`,
    );
    await env.stop();
  });

  it('keeps the previous extensions when extension.config is not YAML', () =>
    fault(
      () => env.config.cm.update({ 'extension.config': 'extensions: [ {name: anomaly, backend: ' }),
      () => env.config.cm.update(goodCm()),
      200,
    ));

  it('refuses the extension whose header references a missing argocd-secret key', () =>
    fault(
      () =>
        env.config.secret.update({ 'server.secretkey': TEST_SERVER_SECRET, 'leak.canary': CANARY }),
      () => env.config.secret.update(goodSecret),
      503,
    ));

  it('keeps the previous argocd-secret when a change removes server.secretkey', () =>
    fault(
      () => env.config.secret.update({ 'anomaly.token': BACKEND_SECRET, 'leak.canary': CANARY }),
      () => env.config.secret.update(goodSecret),
      200,
    ));

  it('denies every invoke on a policy with a malformed line (a typo must not grant anything)', () =>
    fault(
      () =>
        env.config.rbac.update({
          'policy.csv': DEFAULT_POLICY + '\np, bob, extensions, invoke, anomaly allow',
        }),
      () => env.config.rbac.update({ 'policy.csv': DEFAULT_POLICY }),
      403,
    ));

  it('denies every invoke on an unknown policy.matchMode', () =>
    fault(
      () => env.config.rbac.update({ 'policy.csv': DEFAULT_POLICY, 'policy.matchMode': 'globb' }),
      () => env.config.rbac.update({ 'policy.csv': DEFAULT_POLICY }),
      403,
    ));

  it('leaked no secret value in any log line or response', async () => {
    // A fault of its own first, with the canary in argocd-secret: its problem is logged
    // and answered; fault() ends once the restored configuration serves alice again.
    await fault(
      () => env.config.secret.update({ 'anomaly.token': BACKEND_SECRET, 'leak.canary': CANARY }),
      () => env.config.secret.update(goodSecret),
      200,
    );
    const haystack = [env.sidecar.output(), ...responses.filter((r) => !r.includes('"headers"'))];
    for (const secret of [TEST_SERVER_SECRET, CANARY, alice, bob, BACKEND_SECRET]) {
      for (const text of haystack) if (text.includes(secret)) tally.leaks++;
    }
    expect(tally.leaks).toBe(0);
    expect(tally.rejected).toBe(tally.tried);
  });
});
