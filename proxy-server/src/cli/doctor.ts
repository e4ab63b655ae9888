/** Work in progress: replaced by the real command before this lands. */
export function runDoctor(): Promise<number> {
  process.stderr.write('argocd-extension-proxy doctor: not available in this build yet\n');
  return Promise.resolve(2);
}
