/**
 * Child processes of `npm run bench` that print their port (scripts/bench/*.js). Ports and
 * memory figures: test/helpers/processes.ts.
 */
import { ChildProcess, spawn } from 'child_process';
import { join } from 'path';
import { REPO_ROOT } from '../../test/helpers/sidecar-process';

export interface PortProcess {
  child: ChildProcess;
  port: number;
}

/** Starts scripts/bench/<script> with Node; resolves with the port it prints. */
export function startScript(script: string, args: string[]): Promise<PortProcess> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'scripts', 'bench', script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) =>
      resolve({ child, port: Number(d.toString().trim()) }),
    );
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}
