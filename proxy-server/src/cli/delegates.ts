/** Work in progress: replaced by the real command before this lands. */
export function runDelegates(): Promise<number> {
  process.stderr.write('argocd-extension-proxy delegates: not available in this build yet\n');
  return Promise.resolve(2);
}
