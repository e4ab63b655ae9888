import { proxyFor } from '../../../../proxy-server/src/delegate/agent/https-proxy';

describe('proxyFor (HTTPS_PROXY / NO_PROXY)', () => {
  const url = new URL('https://argocd.example.com');
  it('uses HTTPS_PROXY for https and HTTP_PROXY for http', () => {
    expect(proxyFor(url, { HTTPS_PROXY: 'http://proxy:3128' })?.host).toBe('proxy:3128');
    expect(proxyFor(url, { https_proxy: 'proxy:3128' })?.host).toBe('proxy:3128');
    expect(proxyFor(url, { HTTP_PROXY: 'http://proxy:3128' })).toBeUndefined();
    expect(proxyFor(new URL('http://argocd'), { HTTP_PROXY: 'http://p:1' })?.host).toBe('p:1');
  });
  it('honours NO_PROXY by name, suffix, port and *', () => {
    const env = { HTTPS_PROXY: 'http://proxy:3128' };
    expect(proxyFor(url, { ...env, NO_PROXY: 'argocd.example.com' })).toBeUndefined();
    expect(proxyFor(url, { ...env, NO_PROXY: '.example.com' })).toBeUndefined();
    expect(proxyFor(url, { ...env, no_proxy: 'example.com:443' })).toBeUndefined();
    expect(proxyFor(url, { ...env, NO_PROXY: 'example.com:8443' })?.host).toBe('proxy:3128');
    expect(proxyFor(url, { ...env, NO_PROXY: '*' })).toBeUndefined();
    expect(proxyFor(url, { ...env, NO_PROXY: 'ample.com' })?.host).toBe('proxy:3128');
  });
});
