import {
  CsvInputError,
  parseSeriesCsv,
} from '../../../backends/anomaly-detection/src/cli/parse-series-csv';
import {
  parseDetectArgs,
  runDetect,
  UsageError,
} from '../../../backends/anomaly-detection/src/cli/detect-command';

describe('parseSeriesCsv', () => {
  it('reads points, an optional header, blank lines and gaps', () => {
    expect(
      parseSeriesCsv('unix_seconds,value\n0,1.5\n\n60,\r\n120,NaN\n180,null\n240,2\n'),
    ).toEqual([
      [0, 1.5],
      [60, null],
      [120, null],
      [180, null],
      [240, 2],
    ]);
    expect(parseSeriesCsv('')).toEqual([]);
  });

  it.each([
    ['0,1\n60,abc\n', 'line 2: value "abc" is not a number'],
    ['0,1\nx,2\n', 'line 2: timestamp "x" is not a number'],
    [
      't,v\n0,1\n0,2\n',
      'line 3: timestamp 0 is not after the previous one (0); input must be ascending',
    ],
    ['0,1\n60,1,2\n', 'line 2: expected 2 fields "unix_seconds,value", got 3'],
    ['\n\n0\n', 'line 3: expected 2 fields "unix_seconds,value", got 1'],
    ['0,1\n60,Infinity\n', 'line 2: value "Infinity" is not a number'],
  ])('rejects %j with the line number', (input, message) => {
    expect(() => parseSeriesCsv(input)).toThrow(message);
    try {
      parseSeriesCsv(input);
    } catch (err) {
      expect(err).toBeInstanceOf(CsvInputError);
    }
  });
});

describe('parseDetectArgs', () => {
  it.each([
    [[], {}, { help: false }],
    [['--step', '30'], {}, { step: 30, help: false }],
    [['--step=15'], { ARGOCD_EXTENSION_PROXY_STEP: '60' }, { step: 15, help: false }],
    [[], { ARGOCD_EXTENSION_PROXY_STEP: '60' }, { step: 60, help: false }],
    [['--help'], {}, { help: true }],
  ])('parses %j with env %j', (argv, env, expected) => {
    expect(parseDetectArgs(argv, env)).toEqual(expected);
  });

  it.each([
    [['--step'], 'flag --step needs a value'],
    [['--step', '0'], '--step must be a positive number of seconds, got "0"'],
    [['--nope'], 'unknown argument "--nope"'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseDetectArgs(argv, {})).toThrow(new UsageError(message));
  });
});

describe('runDetect', () => {
  function run(argv: string[], input: string) {
    let stdout = '';
    let stderr = '';
    const code = runDetect(argv, {}, input, {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
    });
    return { code, stdout, stderr };
  }

  it('prints the windows and the number of points as JSON', () => {
    let csv = 'unix_seconds,value\n';
    for (let i = 0; i < 300; i++) csv += `${i * 60},${i >= 200 && i < 205 ? 900 : 100 + (i % 3)}\n`;
    const { code, stdout, stderr } = run(['--step', '60'], csv);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.points).toBe(300);
    expect(out.windows).toHaveLength(1);
    expect(out.windows[0]).toMatchObject({ start: 12000, end: 12300 });
    expect(out.windows[0].score).toBeGreaterThan(9);
  });

  it('exits 2 with one line naming the bad line, no stack trace', () => {
    const { code, stdout, stderr } = run([], '0,1\n60,oops\n');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe('detect: line 2: value "oops" is not a number\n');
  });

  it('exits 2 with the usage on a bad flag', () => {
    const { code, stderr } = run(['--stp', '5'], '');
    expect(code).toBe(2);
    expect(stderr).toMatch(/^detect: unknown argument "--stp"\nusage: detect/);
  });
});
