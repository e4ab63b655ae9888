import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { SecretHeaders } from '../../../../proxy-server/src/delegate/agent/secret-headers';

describe('SecretHeaders', () => {
  const dir = mkdtempSync(join(tmpdir(), 'secret-headers-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("adds DIR/<Header> to every host and DIR/<host>/<Header> to that host, over the sidecar's", () => {
    writeFileSync(join(dir, 'X-Api-Key'), 'k1\n');
    mkdirSync(join(dir, 'prom'));
    writeFileSync(join(dir, 'prom', 'Authorization'), 'Bearer p');
    mkdirSync(join(dir, '..data'));
    writeFileSync(join(dir, '..data', 'ignored'), 'x');
    const secrets = new SecretHeaders(dir);
    const forProm: Record<string, string> = { authorization: 'from-sidecar' };
    secrets.apply(forProm, 'prom');
    expect(forProm).toEqual({ authorization: 'Bearer p', 'x-api-key': 'k1' });
    const forOther: Record<string, string> = {};
    secrets.apply(forOther, 'other');
    expect(forOther).toEqual({ 'x-api-key': 'k1' });
    expect(secrets.values().sort()).toEqual(['Bearer p', 'k1']);
  });

  it('refuses an invalid header value, naming the file but not the value', () => {
    const bad = mkdtempSync(join(tmpdir(), 'secret-headers-bad-'));
    writeFileSync(join(bad, 'X-Bad'), 'line1\nline2-HIDDENVALUE\n');
    expect(() => new SecretHeaders(bad)).toThrow(/X-Bad: not a valid header name or value/);
    expect(() => new SecretHeaders(bad)).not.toThrow(/HIDDENVALUE/);
    rmSync(bad, { recursive: true, force: true });
  });
});
