import { spawnSync } from 'child_process';
import { sep } from 'path';
import { BIN } from '../helpers/sidecar-process';

const MARKER = 'LOADED MODULES ';

/**
 * The modules a fresh process of the executable holds after `COMMAND --help`: a command's
 * module loads everything it imports before it parses its flags, and main loads only the
 * command that runs. The process reports its require.cache as it exits.
 */
function modulesLoadedBy(command: string): string[] {
  const report =
    `process.on('exit', () => process.stderr.write(${JSON.stringify(MARKER)} + ` +
    `JSON.stringify(Object.keys(require.cache)) + '\\n'));` +
    'require(process.argv[1]);';
  const result = spawnSync(process.execPath, ['-e', report, BIN, command, '--help'], {
    encoding: 'utf8',
  });
  expect(result.status).toBe(0);
  const line = result.stderr.split('\n').find((l) => l.startsWith(MARKER));
  expect(line).toBeDefined();
  return JSON.parse(line!.slice(MARKER.length)) as string[];
}

/** Loaded files of one npm package (node_modules may be a link: match on the path inside). */
function ofPackage(modules: string[], name: string): string[] {
  return modules.filter((path) => path.includes(`${sep}node_modules${sep}${name}${sep}`));
}

/** Loaded files under one folder of the sidecar's compiled source, relative to it. */
function ofSource(modules: string[], folder: string): string[] {
  const root = ['dist', 'proxy-server', 'src', ''].join(sep);
  return modules
    .filter((path) => path.includes(root))
    .map((path) =>
      path
        .slice(path.indexOf(root) + root.length)
        .split(sep)
        .join('/'),
    )
    .filter((path) => path.startsWith(folder));
}

describe('modules each process of the executable loads', () => {
  it('the delegate agent (`delegate`) never loads http-proxy-middleware', () => {
    const modules = modulesLoadedBy('delegate');
    expect(ofPackage(modules, 'http-proxy-middleware')).toEqual([]);
    expect(ofPackage(modules, 'undici').length).toBeGreaterThan(0);
  });

  it("the delegate agent loads delegate/protocol/ and delegate/agent/, never the sidecar's side or forwarders", () => {
    const modules = modulesLoadedBy('delegate');
    expect(ofSource(modules, 'delegate/protocol/').length).toBeGreaterThan(0);
    expect(ofSource(modules, 'delegate/agent/')).toContain('delegate/agent/agent.js');
    expect(ofSource(modules, 'delegate/sidecar/')).toEqual([]);
    expect(ofSource(modules, 'proxy/').filter((path) => path.includes('forwarder'))).toEqual([]);
    expect(ofSource(modules, 'server/')).toEqual(['server/admin-server.js']);
  });

  it('the sidecar (`serve`) loads http-proxy-middleware, delegate/protocol/ and delegate/sidecar/, never delegate/agent/', () => {
    const modules = modulesLoadedBy('serve');
    expect(ofPackage(modules, 'http-proxy-middleware').length).toBeGreaterThan(0);
    expect(ofSource(modules, 'delegate/protocol/').length).toBeGreaterThan(0);
    expect(ofSource(modules, 'delegate/sidecar/')).toContain('delegate/sidecar/hub.js');
    expect(ofSource(modules, 'delegate/agent/')).toEqual([]);
  });
});
