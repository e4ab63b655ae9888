/**
 * Child processes of `npm run bench` that print their port (scripts/bench-servers/*.js).
 * Ports and memory figures: test/helpers/processes.ts.
 */
import { ChildProcess, spawn } from 'child_process';
import { join } from 'path';
import { NODE_FLAGS } from '../../proxy-server/src/node-flags';
import { REPO_ROOT } from '../../test/helpers/sidecar-process';

export interface PortProcess {
  child: ChildProcess;
  port: number;
}

/**
 * Starts scripts/bench-servers/<script> with Node (and the sidecar's V8 flags, so the plain
 * Node proxy is compared on equal terms); resolves with the port it prints. `wrapper`: a
 * command that runs Node (valgrind, for one), its output discarded.
 */
export function startScript(
  script: string,
  args: string[],
  wrapper: string[] = [],
): Promise<PortProcess> {
  const argv = [...NODE_FLAGS, join(REPO_ROOT, 'scripts', 'bench-servers', script), ...args];
  const [command, ...rest] = [...wrapper, process.execPath, ...argv];
  const child = spawn(command, rest, {
    stdio: ['ignore', 'pipe', wrapper.length > 0 ? 'ignore' : 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) =>
      resolve({ child, port: Number(d.toString().trim()) }),
    );
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}
