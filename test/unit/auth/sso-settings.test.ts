import { readFileSync } from 'fs';
import { join } from 'path';
import { resolveSsoIssuer } from '../../../proxy-server/src/auth/sso-settings';

/** A self-signed certificate whose key was discarded: only parsed, never trusted. */
const TEST_CA_PEM = readFileSync(join(__dirname, 'fixtures', 'test-ca.pem'), 'utf8');

const DEX_SERVER = 'http://argocd-dex-server:5556';
const DEX_CONFIG = 'connectors:\n- type: github\n  id: github\n  name: GitHub\n';

describe('resolveSsoIssuer', () => {
  it('configures no SSO when argocd-cm has neither oidc.config nor dex.config', () => {
    expect(resolveSsoIssuer({ url: 'https://cd.example.com' }, { dexServer: DEX_SERVER })).toEqual({
      problems: [],
    });
  });

  it('derives the Dex issuer from url, with both Argo CD client ids, fetched through the Dex server', () => {
    const result = resolveSsoIssuer(
      { url: 'https://cd.example.com', 'dex.config': DEX_CONFIG },
      { dexServer: DEX_SERVER },
    );
    expect(result).toEqual({
      problems: [],
      issuer: {
        issuer: 'https://cd.example.com/api/dex',
        audiences: ['argo-cd', 'argo-cd-cli'],
        skipAudienceCheck: false,
        fetchBaseUrl: DEX_SERVER,
      },
    });
  });

  it('adds http:// to a bare Dex server address, as util/dex does without TLS', () => {
    const result = resolveSsoIssuer(
      { url: 'https://cd.example.com', 'dex.config': DEX_CONFIG },
      { dexServer: 'argocd-dex-server:5556' },
    );
    expect(result.issuer?.fetchBaseUrl).toBe('http://argocd-dex-server:5556');
  });

  it('treats an empty dex.config as no SSO (util/settings IsDexConfigured)', () => {
    const result = resolveSsoIssuer(
      { url: 'https://cd.example.com', 'dex.config': '{}' },
      { dexServer: DEX_SERVER },
    );
    expect(result).toEqual({ problems: [] });
  });

  it('lets oidc.config win over dex.config', () => {
    const result = resolveSsoIssuer(
      {
        url: 'https://cd.example.com',
        'dex.config': DEX_CONFIG,
        'oidc.config': 'name: Okta\nissuer: https://idp.example.com\nclientID: argo\n',
      },
      { dexServer: DEX_SERVER },
    );
    expect(result.issuer?.issuer).toBe('https://idp.example.com');
    expect(result.issuer?.fetchBaseUrl).toBeUndefined();
  });

  it.each([
    ['clientID alone', 'clientID: argo', ['argo']],
    ['clientID and cliClientID', 'clientID: argo\ncliClientID: argo-cli', ['argo', 'argo-cli']],
    [
      'allowedAudiences, which replace the client ids',
      'clientID: argo\ncliClientID: argo-cli\nallowedAudiences: [api://argo, other]',
      ['api://argo', 'other'],
    ],
    [
      'an empty allowedAudiences list, which falls back to clientID',
      'clientID: argo\nallowedAudiences: []',
      ['argo'],
    ],
  ])('takes the audiences of oidc.config from %s', (_case, yaml, audiences) => {
    const result = resolveSsoIssuer(
      { 'oidc.config': `issuer: https://idp.example.com\n${yaml}\n` },
      { dexServer: DEX_SERVER },
    );
    expect(result.problems).toEqual([]);
    expect(result.issuer?.audiences).toEqual(audiences);
  });

  it('reads skipAudienceCheckWhenTokenHasNoAudience, rootCA and oidc.tls.insecure.skip.verify', () => {
    const oidc = [
      'issuer: https://idp.example.com',
      'clientID: argo',
      'skipAudienceCheckWhenTokenHasNoAudience: true',
      'rootCA: |',
      ...TEST_CA_PEM.trim()
        .split('\n')
        .map((line) => `  ${line}`),
    ].join('\n');
    const result = resolveSsoIssuer(
      { 'oidc.config': oidc, 'oidc.tls.insecure.skip.verify': 'true' },
      { dexServer: DEX_SERVER },
    );
    expect(result.problems).toEqual([]);
    expect(result.issuer).toMatchObject({
      skipAudienceCheck: true,
      rootCA: `${TEST_CA_PEM.trim()}\n`,
      insecureSkipVerify: true,
    });
  });

  it('resolves $key references against argocd-secret values, trimmed', () => {
    const result = resolveSsoIssuer(
      { 'oidc.config': 'issuer: https://idp.example.com\nclientID: $oidc.clientID\n' },
      { dexServer: DEX_SERVER, secrets: { 'oidc.clientID': 'argo-from-secret\n' } },
    );
    expect(result.issuer?.audiences).toEqual(['argo-from-secret']);
  });

  // util/oidc SetGroupsClaimFromEndpoint: path 1 (userinfo) needs UserInfoGroupsEnabled and a
  // non-empty UserInfoPath and wins over path 2 (AzureUserGroupOverageClaimEnabled). One table,
  // so the cases where nothing is replaced are checked next to those where it is.
  it('decides like SetGroupsClaimFromEndpoint when Argo CD replaces the token groups', () => {
    const cases: Array<[string, string, string]> = [
      ['neither option', '', 'none'],
      [
        'enableUserInfoGroups with userInfoPath',
        'enableUserInfoGroups: true\nuserInfoPath: /userinfo',
        'userinfo',
      ],
      ['enableUserInfoGroups without userInfoPath', 'enableUserInfoGroups: true', 'none'],
      [
        'enableUserInfoGroups with an empty userInfoPath',
        'enableUserInfoGroups: true\nuserInfoPath: ""',
        'none',
      ],
      [
        'enableUserInfoGroups false',
        'enableUserInfoGroups: false\nuserInfoPath: /userinfo',
        'none',
      ],
      ['userInfoPath alone', 'userInfoPath: /userinfo', 'none'],
      [
        'azure.enableUserGroupOverageClaim',
        'azure:\n  enableUserGroupOverageClaim: true',
        'azure-overage',
      ],
      [
        'azure.enableUserGroupOverageClaim with an invalid graphApiEndpoint (asked anyway)',
        'azure:\n  enableUserGroupOverageClaim: true\n  graphApiEndpoint: http://evil.example',
        'azure-overage',
      ],
      ['azure without enableUserGroupOverageClaim', 'azure:\n  useWorkloadIdentity: true', 'none'],
      [
        'both (userinfo wins)',
        'enableUserInfoGroups: true\nuserInfoPath: /userinfo\nazure:\n  enableUserGroupOverageClaim: true',
        'userinfo',
      ],
      [
        'both, userinfo without a path (the overage applies)',
        'enableUserInfoGroups: true\nazure:\n  enableUserGroupOverageClaim: true',
        'azure-overage',
      ],
    ];
    const decided = cases.map(([name, yaml]) => {
      const result = resolveSsoIssuer(
        { 'oidc.config': `issuer: https://idp.example.com\nclientID: argo\n${yaml}\n` },
        { dexServer: DEX_SERVER },
      );
      expect(result.problems).toEqual([]);
      return [name, result.issuer?.groupsReplacement ?? 'none'];
    });
    expect(Object.fromEntries(decided)).toEqual(
      Object.fromEntries(cases.map(([name, , expected]) => [name, expected])),
    );
  });

  it('resolves a $key userInfoPath before deciding', () => {
    const result = resolveSsoIssuer(
      {
        'oidc.config':
          'issuer: https://idp.example.com\nclientID: argo\nenableUserInfoGroups: true\nuserInfoPath: $oidc.userinfo\n',
      },
      { dexServer: DEX_SERVER, secrets: { 'oidc.userinfo': '/userinfo' } },
    );
    expect(result.issuer?.groupsReplacement).toBe('userinfo');
  });

  it.each<[string, Record<string, string>, string[]]>([
    [
      'a non-boolean enableUserInfoGroups',
      {
        'oidc.config':
          'issuer: https://idp.example.com\nclientID: a\nenableUserInfoGroups: "true"\nuserInfoPath: /u',
      },
      ['oidc.config: enableUserInfoGroups must be true or false'],
    ],
    [
      'a userInfoPath that is not a string',
      { 'oidc.config': 'issuer: https://idp.example.com\nclientID: a\nuserInfoPath: [a]' },
      ['oidc.config: userInfoPath must be a string'],
    ],
    [
      'an azure that is not a mapping',
      { 'oidc.config': 'issuer: https://idp.example.com\nclientID: a\nazure: yes' },
      ['oidc.config: azure must be a YAML mapping'],
    ],
    [
      'a non-boolean azure.enableUserGroupOverageClaim',
      {
        'oidc.config':
          'issuer: https://idp.example.com\nclientID: a\nazure:\n  enableUserGroupOverageClaim: "yes"',
      },
      ['oidc.config: azure.enableUserGroupOverageClaim must be true or false'],
    ],
  ])('reports %s (Argo CD would discard the whole oidc.config)', (_case, cm, problems) => {
    const result = resolveSsoIssuer(cm, { dexServer: DEX_SERVER });
    expect(result.problems).toEqual(problems);
    expect(result.issuer).toBeUndefined();
  });

  it.each<[string, Record<string, string>, string[]]>([
    ['oidc.config that is not YAML', { 'oidc.config': 'issuer: [' }, ['oidc.config: invalid YAML']],
    [
      'oidc.config that is a list',
      { 'oidc.config': '- a' },
      ['oidc.config: must be a YAML mapping'],
    ],
    [
      'oidc.config without issuer',
      { 'oidc.config': 'clientID: argo' },
      ['oidc.config: issuer is required'],
    ],
    [
      'an issuer that is not a URL',
      { 'oidc.config': 'issuer: idp.example.com\nclientID: argo' },
      ['oidc.config: issuer must be an http(s) URL'],
    ],
    [
      'oidc.config without clientID or allowedAudiences',
      { 'oidc.config': 'issuer: https://idp.example.com' },
      ['oidc.config: clientID (or allowedAudiences) is required to check token audiences'],
    ],
    [
      'allowedAudiences that is not a list',
      { 'oidc.config': 'issuer: https://idp.example.com\nclientID: a\nallowedAudiences: b' },
      ['oidc.config: allowedAudiences must be a list of strings'],
    ],
    [
      'a non-boolean skipAudienceCheckWhenTokenHasNoAudience',
      {
        'oidc.config':
          'issuer: https://idp.example.com\nclientID: a\nskipAudienceCheckWhenTokenHasNoAudience: yes-please',
      },
      ['oidc.config: skipAudienceCheckWhenTokenHasNoAudience must be true or false'],
    ],
    [
      'a rootCA that is not PEM',
      { 'oidc.config': 'issuer: https://idp.example.com\nclientID: a\nrootCA: not a cert' },
      ['oidc.config: rootCA must be PEM-encoded certificates'],
    ],
    [
      'an unresolvable secret reference',
      { 'oidc.config': 'issuer: https://idp.example.com\nclientID: $missing' },
      [
        'oidc.config: clientID refers to $missing, which is not a key of argocd-secret',
        'oidc.config: clientID (or allowedAudiences) is required to check token audiences',
      ],
    ],
    [
      'dex.config that is not YAML',
      { url: 'https://cd.example.com', 'dex.config': 'a: [' },
      ['dex.config: invalid YAML'],
    ],
    [
      'dex.config without url',
      { 'dex.config': DEX_CONFIG },
      ['url: is required when dex.config is set (the Dex issuer is <url>/api/dex)'],
    ],
    [
      'dex.config with a url that is not a URL',
      { url: 'cd', 'dex.config': DEX_CONFIG },
      ['url: must be an http(s) URL'],
    ],
  ])('reports %s', (_case, cm, problems) => {
    const result = resolveSsoIssuer(cm, { dexServer: DEX_SERVER });
    expect(result.problems).toEqual(problems);
    expect(result.issuer).toBeUndefined();
  });
});
