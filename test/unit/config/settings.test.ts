import {
  AppliedConfig,
  ConfigSources,
  loadSettings,
} from '../../../proxy-server/src/config/settings';
import { ArgoCDConfig } from '../../helpers/mounted-dir';

/**
 * Each object applies on its own (DESIGN: Reloads), as Argo CD applies argocd-rbac-cm
 * through its own informer (util/rbac/rbac.go) and keeps its previous proxy registry when
 * extension.config is invalid (server/extension/extension.go UpdateExtensionRegistry).
 */
describe('loadSettings', () => {
  const OPTIONS = { dexServer: 'http://127.0.0.1:1' };
  const GOOD = {
    cm: {
      'extension.config.a': 'services: [{url: "http://a"}]',
      'extension.config.b':
        'services: [{url: "http://b", headers: [{name: X-T, value: $b.token}]}]',
      'oidc.config': 'name: SSO\nissuer: https://sso.example\nclientID: argo-cd\n',
    },
    rbac: { 'policy.csv': 'p, alice, extensions, invoke, *, allow' },
    secret: { 'server.secretkey': 'key-1', 'b.token': 'tok' },
  };
  let config: ArgoCDConfig;
  let sources: ConfigSources;
  let previous: AppliedConfig;

  beforeEach(async () => {
    config = new ArgoCDConfig(GOOD);
    sources = {
      argocdCmDir: config.cm.path,
      argocdRbacCmDir: config.rbac.path,
      argocdSecretDir: config.secret.path,
    };
    const first = await loadSettings(sources, OPTIONS);
    expect(first.problems).toEqual([]);
    previous = first.settings!;
  });
  afterEach(() => config.remove());

  it('applies a valid policy change while extension.config is broken, keeping the old extensions', async () => {
    config.cm.update({ ...GOOD.cm, 'extension.config.a': 'services: [' });
    config.rbac.update({ 'policy.csv': 'p, bob, extensions, invoke, *, allow' });
    const result = await loadSettings(sources, OPTIONS, previous);
    expect(result.settings!.settings.rbac!.policyCsv).toBe('p, bob, extensions, invoke, *, allow');
    expect(result.settings!.settings.extensions).toBe(previous.settings.extensions);
    expect(result.problems).toEqual([
      {
        object: 'argocd-cm',
        effect: 'the previous extension.config stays in force',
        problems: [expect.stringMatching(/^argocd-cm: extension\.config\.a: is not valid YAML/)],
      },
    ]);
  });

  it('leaves no policy (every invoke denied) when argocd-rbac-cm cannot be loaded', async () => {
    config.rbac.update({ 'policy.csv': 'p, alice, extensions, invoke, *' });
    const result = await loadSettings(sources, OPTIONS, previous);
    expect(result.settings!.settings.rbac).toBeUndefined();
    expect(result.problems.map((p) => [p.object, p.effect])).toEqual([
      ['argocd-rbac-cm', 'every extension request is denied'],
    ]);
  });

  it('marks only the extension whose secret is missing, and reports it', async () => {
    config.secret.update({ 'server.secretkey': 'key-1' });
    const result = await loadSettings(sources, OPTIONS, previous);
    const extensions = result.settings!.settings.extensions;
    expect(extensions.get('a')!.unavailable).toBeUndefined();
    expect(extensions.get('b')!.unavailable).toEqual([
      'extension.config.b: services[0].headers[0].value references argocd-secret key "b.token", which does not exist',
    ]);
    expect(result.problems.map((p) => [p.object, p.effect])).toEqual([
      ['argocd-secret', 'requests to extension b are refused (503)'],
    ]);
  });

  it('refuses SSO sessions while oidc.config is invalid', async () => {
    config.cm.update({ ...GOOD.cm, 'oidc.config': 'issuer: [' });
    const result = await loadSettings(sources, OPTIONS, previous);
    expect(previous.settings.auth.sso?.issuer).toBe('https://sso.example');
    expect(result.settings!.settings.auth.sso).toBeUndefined();
    expect(result.problems.map((p) => [p.object, p.effect])).toEqual([
      ['argocd-cm', 'SSO sessions are refused'],
    ]);
  });

  it('keeps the previous argocd-secret when server.secretkey is removed', async () => {
    config.secret.update({ 'b.token': 'rotated' });
    const result = await loadSettings(sources, OPTIONS, previous);
    expect(result.settings!.secretKey.toString()).toBe('key-1');
    expect(result.settings!.settings.extensions.get('b')!.backend.services[0].headers).toEqual([
      { name: 'X-T', value: 'tok' },
    ]);
    expect(result.problems.map((p) => [p.object, p.effect])).toEqual([
      ['argocd-secret', 'the previous reading stays in force'],
    ]);
  });

  it('keeps the previous reading of a directory that cannot be read, but denies without a policy', async () => {
    const result = await loadSettings(
      { ...sources, argocdCmDir: '/nonexistent/cm', argocdRbacCmDir: '/nonexistent/rbac' },
      OPTIONS,
      previous,
    );
    expect(result.settings!.settings.extensions).toEqual(previous.settings.extensions);
    expect(result.settings!.settings.rbac).toBeUndefined();
    expect(result.problems.map((p) => [p.object, p.effect])).toEqual([
      ['argocd-cm', 'the previous reading stays in force'],
      ['argocd-rbac-cm', 'every extension request is denied'],
    ]);
  });

  it('gives nothing to apply at start while any object has a problem', async () => {
    config.secret.update({ 'server.secretkey': 'key-1' });
    const result = await loadSettings(sources, OPTIONS);
    expect(result.settings).toBeUndefined();
    expect(result.problems.flatMap((p) => p.problems)).toEqual([
      'argocd-cm: extension.config.b: services[0].headers[0].value references argocd-secret key "b.token", which does not exist',
    ]);
  });
});
