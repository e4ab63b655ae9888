import { parseArgs, UsageError } from '../../../proxy-server/src/cli/flags';
import { rootPathFlag, SERVE_FLAGS } from '../../../proxy-server/src/cli/serve';

/** `serve --rootpath`: its own variable, then argocd-server's, normalised as Argo CD does. */
describe('serve --rootpath', () => {
  const rootPath = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
    rootPathFlag(parseArgs(argv, SERVE_FLAGS, env), env);

  it.each([
    [['--rootpath', 'argocd'], {}, '/argocd'],
    [['--rootpath=/argocd/'], {}, '/argocd'],
    [[], { ARGOCD_EXTENSION_PROXY_ROOTPATH: '/argocd' }, '/argocd'],
    // The manifest maps argocd-cmd-params-cm server.rootpath to argocd-server's variable.
    [[], { ARGOCD_SERVER_ROOTPATH: '/argocd/' }, '/argocd'],
    [
      ['--rootpath', '/mine'],
      { ARGOCD_EXTENSION_PROXY_ROOTPATH: '/env', ARGOCD_SERVER_ROOTPATH: '/argocd' },
      '/mine',
    ],
    [[], { ARGOCD_EXTENSION_PROXY_ROOTPATH: '/env', ARGOCD_SERVER_ROOTPATH: '/argocd' }, '/env'],
    // An empty variable is unset (as for every flag); an explicit empty flag means none.
    [[], { ARGOCD_EXTENSION_PROXY_ROOTPATH: '', ARGOCD_SERVER_ROOTPATH: '/argocd' }, '/argocd'],
    [['--rootpath', ''], { ARGOCD_SERVER_ROOTPATH: '/argocd' }, ''],
    [['--rootpath', '/'], {}, ''],
    [[], { ARGOCD_SERVER_ROOTPATH: '' }, ''],
    [[], {}, ''],
  ])('%j with %j is %p', (argv, env, expected) => {
    expect(rootPath(argv, env)).toBe(expected);
  });

  it('says which setting is not a path', () => {
    expect(() => rootPath(['--rootpath', 'https://argocd.example.com/argocd'])).toThrow(
      new UsageError(
        '--rootpath must be a path like /argocd, not a URL: "https://argocd.example.com/argocd"',
      ),
    );
    expect(() => rootPath([], { ARGOCD_SERVER_ROOTPATH: '/argocd?x' })).toThrow(
      /^ARGOCD_SERVER_ROOTPATH must be a path like \/argocd: .* "\/argocd\?x"$/,
    );
  });
});
