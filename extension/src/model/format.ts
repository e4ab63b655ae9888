/** Formatting for labels; uses the browser's locale and time zone like Argo CD does. */

const DAY = 24 * 3600;

export function formatTime(unixSeconds: number, spanSeconds: number): string {
  const date = new Date(unixSeconds * 1000);
  if (spanSeconds > DAY) {
    return date.toLocaleString(undefined, {
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
    });
  }
  return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** A score on the 0–10 scale with one decimal, or an em dash when unknown. */
export function formatScore(score: number | null | undefined): string {
  return score === null || score === undefined || !Number.isFinite(score) ? '—' : score.toFixed(1);
}
