import {
  durationFlag,
  listenFlag,
  parseArgs,
  parseCommand,
  UsageError,
} from '../../../proxy-server/src/cli/flags';
import { parseGoDuration } from '../../../proxy-server/src/config/duration';

const specs = [
  { name: 'listen', kind: 'string' as const, default: '0.0.0.0:8090', description: '' },
  { name: 'argocd-cm', kind: 'string' as const, description: '' },
  { name: 'insecure', kind: 'boolean' as const, default: 'false', description: '' },
  { name: 'allow', kind: 'list' as const, description: '' },
];

describe('parseArgs', () => {
  it('takes flags, then ARGOCD_EXTENSION_PROXY_* variables, then defaults', () => {
    const args = parseArgs(['--argocd-cm', '/a', '--allow=h1', '--allow', 'h2', 'pos'], specs, {
      ARGOCD_EXTENSION_PROXY_ARGOCD_CM: '/from-env',
      ARGOCD_EXTENSION_PROXY_INSECURE: 'true',
    });
    expect(args.flags.get('argocd-cm')).toBe('/a');
    expect(args.flags.get('insecure')).toBe(true);
    expect(args.flags.get('listen')).toBe('0.0.0.0:8090');
    expect(args.flags.get('allow')).toEqual(['h1', 'h2']);
    expect(args.positionals).toEqual(['pos']);
  });

  it('reads a list flag from its variable, comma or space separated', () => {
    const args = parseArgs([], specs, { ARGOCD_EXTENSION_PROXY_ALLOW: 'a:1, b:2 c' });
    expect(args.flags.get('allow')).toEqual(['a:1', 'b:2', 'c']);
  });

  it.each([
    [['--nope'], 'unknown flag --nope'],
    [['--argocd-cm'], 'flag --argocd-cm needs a value'],
    [['--insecure=maybe'], '--insecure must be true or false, got "maybe"'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseArgs(argv, specs, {})).toThrow(new UsageError(message));
  });
});

describe('parseCommand', () => {
  const command = { synopsis: 'tool run [flags]', summary: 'Runs.', flags: specs };

  it('prints the usage for --help and returns nothing to run', () => {
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(parseCommand(['--help'], command)).toBeUndefined();
      const text = write.mock.calls.map((c) => String(c[0])).join('');
      expect(text).toContain('Usage: tool run [flags]');
      expect(text).toContain('--argocd-cm VALUE');
    } finally {
      write.mockRestore();
    }
  });

  it('refuses arguments the command does not take, unless it takes them', () => {
    expect(() => parseCommand(['--argocd-cm', 'x', 'extra'], command)).toThrow(
      new UsageError('unexpected argument "extra"'),
    );
    const args = parseCommand(['alice', '--argocd-cm', 'x'], { ...command, positionals: true });
    expect(args?.positionals).toEqual(['alice']);
    expect(args?.flags.get('argocd-cm')).toBe('x');
  });
});

describe('listenFlag', () => {
  it.each([
    ['127.0.0.1:8090', { host: '127.0.0.1', port: 8090 }],
    [':9000', { host: '0.0.0.0', port: 9000 }],
    ['[::1]:0', { host: '::1', port: 0 }],
  ])('parses %s', (text, expected) => {
    expect(listenFlag(parseArgs(['--listen', text], specs, {}), 'listen')).toEqual(expected);
  });

  it.each(['8090', 'host:', 'host:99999', 'a:b'])('rejects %s', (text) => {
    expect(() => listenFlag(parseArgs(['--listen', text], specs, {}), 'listen')).toThrow(
      UsageError,
    );
  });
});

describe('durations', () => {
  it.each([
    ['0', 0],
    ['2s', 2000],
    ['500ms', 500],
    ['1m30s', 90000],
    ['1.5h', 5400000],
    ['100us', 0.1],
  ])('parses %s as Go does', (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });

  it.each(['', '2', 's', '1x', '-1s', '1s '])('rejects %j', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });

  it('explains a bad duration flag', () => {
    const args = parseArgs(['--listen', '5 seconds'], specs, {});
    expect(() => durationFlag(args, 'listen')).toThrow(
      '--listen must be a duration like 500ms or 30s',
    );
  });
});
