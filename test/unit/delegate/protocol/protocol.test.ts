import {
  isConnectionSpecific,
  sameSecret,
} from '../../../../proxy-server/src/delegate/protocol/protocol';

describe('delegate protocol', () => {
  it('keeps pseudo, hop-by-hop and control headers off streams', () => {
    for (const name of [
      ':path',
      'connection',
      'upgrade',
      'host',
      'transfer-encoding',
      'argocd-extension-proxy-error',
    ]) {
      expect(isConnectionSpecific(name)).toBe(true);
    }
    expect(isConnectionSpecific('argocd-username')).toBe(false);
  });

  it('compares tokens by value only', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abd')).toBe(false);
    expect(sameSecret('abc', 'abcd')).toBe(false);
  });
});
