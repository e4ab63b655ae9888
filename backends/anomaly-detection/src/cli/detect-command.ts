import { detectAnomalies } from '../detector';
import { CsvInputError, parseSeriesCsv } from './parse-series-csv';

/** Wrong flags. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit code for bad flags or bad input. */
export const EXIT_BAD_INPUT = 2;

export const USAGE = `usage: detect [--step SECONDS] < series.csv
  stdin   CSV lines "unix_seconds,value", ascending; an optional header line; an empty
          value (or NaN/null) is a gap
  stdout  JSON {"windows": [{"start": s, "end": s, "score": 0..10}], "points": N}
  --step  seconds between points (default: the median spacing of the input);
          also read from ARGOCD_EXTENSION_PROXY_STEP
`;

export interface DetectArgs {
  step?: number;
  help: boolean;
}

/** Parses `detect`'s arguments; the flag wins over ARGOCD_EXTENSION_PROXY_STEP. */
export function parseDetectArgs(argv: readonly string[], env: NodeJS.ProcessEnv): DetectArgs {
  let stepText = env.ARGOCD_EXTENSION_PROXY_STEP;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--step') {
      if (i + 1 >= argv.length) throw new UsageError('flag --step needs a value');
      stepText = argv[++i];
    } else if (arg.startsWith('--step=')) stepText = arg.slice('--step='.length);
    else throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
  }
  if (stepText === undefined || stepText === '') return { help };
  const step = Number(stepText);
  if (!Number.isFinite(step) || step <= 0) {
    throw new UsageError(
      `--step must be a positive number of seconds, got ${JSON.stringify(stepText)}`,
    );
  }
  return { step, help };
}

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/**
 * Runs `detect` on already-read stdin text; returns the exit code. Errors are one line on
 * stderr (exit 2), never a stack trace.
 */
export function runDetect(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  input: string,
  io: CommandIo,
): number {
  try {
    const args = parseDetectArgs(argv, env);
    if (args.help) {
      io.stdout(USAGE);
      return 0;
    }
    const points = parseSeriesCsv(input);
    const result = detectAnomalies(points, { step: args.step });
    io.stdout(`${JSON.stringify({ windows: result.windows, points: points.length })}\n`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`detect: ${err.message}\n${USAGE}`);
      return EXIT_BAD_INPUT;
    }
    if (err instanceof CsvInputError || err instanceof RangeError) {
      io.stderr(`detect: ${err.message}\n`);
      return EXIT_BAD_INPUT;
    }
    throw err;
  }
}

/** Entry point for bin/detect: reads all of stdin, then runs. */
export async function main(argv: readonly string[]): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return runDetect(argv, process.env, Buffer.concat(chunks).toString('utf8'), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
}
