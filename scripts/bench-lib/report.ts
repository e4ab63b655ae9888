/** Table and number formatting shared by `npm run bench` and `npm run bench:instructions`. */

/** A Markdown table, columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  return [
    line(header),
    '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|',
    ...rows.map(line),
  ].join('\n');
}

export const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
export const ratio = (a: number, b: number) =>
  Number.isFinite(a / b) ? (a / b).toFixed(2) + 'x' : '-';
/** The middle value (the upper one of the two middle values for an even count). */
export const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

/** Nearest-rank percentile, `q` in (0, 1]: of 7 values, p95 is the largest; NaN of none. */
export function percentile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * q) - 1))];
}
