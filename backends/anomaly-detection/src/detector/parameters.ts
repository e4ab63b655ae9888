/**
 * Tuning parameters of the detector. Each is a named constant so the README, the
 * evaluation (`npm run eval`) and the code talk about the same numbers. Durations are in
 * seconds and converted to points with the series' step (never fewer than the stated
 * minimum number of points).
 */

/**
 * Trailing window of the short-term robust baseline (median / MAD of the last points).
 * Default: 7200 (2 hours). Why: long enough that a spike of a few points cannot move the
 * median, short enough that a deliberate level change (a release, a scale-out) becomes
 * the new normal within about an hour (half the window).
 */
export const SHORT_WINDOW_SECONDS = 2 * 3600;

/**
 * Trailing window of the long-term baseline that the drift detector compares against.
 * Default: 43200 (12 hours). Why: a slow drift moves a 2-hour median along with it and is
 * never seen; against a 12-hour median it stands out until it has lasted ~6 hours.
 */
export const LONG_WINDOW_SECONDS = 12 * 3600;

/**
 * Fewest points with data a trailing window needs before a point is scored at all.
 * Default: 12. Why: a median/MAD of fewer points is noise; earlier points get a `null`
 * score ("unknown"), not a confident "normal".
 */
export const MIN_WINDOW_POINTS = 12;

/**
 * Seasonal lags: the same time this many seconds earlier. Default: 1, 2 and 3 days and
 * 1 and 2 weeks. Why: daily and weekly cycles are what real traffic has; taking the
 * median of several lags (only those present in the input) means one past incident —
 * last week's outage — cannot become this week's expectation.
 */
export const SEASONAL_LAGS_SECONDS: readonly number[] = [
  86400,
  2 * 86400,
  3 * 86400,
  7 * 86400,
  14 * 86400,
];

/**
 * The two lags whose *raw* values form the weekly reference: the same time 1 and 2 weeks
 * earlier. Default: 1 and 2 weeks. Why: a weekly batch job (every Monday 02:00, ×3 for an
 * hour) is invisible to {@link SEASONAL_LAGS_SECONDS}, whose median is dominated by the
 * daily lags and whose history has the job cleaned away. When the raw values at both lags
 * exist and agree within {@link TOLERATED_FACTOR}, something happened at this hour on two
 * previous weeks: that is a recurring pattern, and the detector also scores the point
 * against it (the point is anomalous only if it is anomalous against both references).
 * An event seen on one previous week only (last week's outage) is not a pattern: the two
 * lags disagree and only the daily reference applies.
 */
export const WEEKLY_PATTERN_LAGS_SECONDS: readonly [number, number] = [7 * 86400, 14 * 86400];

/**
 * Smoothing factor of the EWMA of the long-term deviation (the drift detector).
 * Default: 0.1 (a memory of ~10 points). Why: it averages noise away so that a small,
 * persistent deviation accumulates while single outliers do not.
 */
export const DRIFT_EWMA_ALPHA = 0.1;

/**
 * Deviation, as a factor, that is never anomalous by itself. Default: 1.75 (a value may
 * be up to 1.75× above or below its baseline). Why: workload metrics change by factors —
 * traffic ×1.5 after a release is a change nobody would page for — so the detector works
 * on the logarithm of the value and only the part of the deviation beyond this factor
 * counts.
 */
export const TOLERATED_FACTOR = 1.75;

/**
 * Lower bound of the noise scale (a robust standard deviation, in natural-log units).
 * Default: 0.05 (about 5 %). Why: a perfectly flat metric has a MAD of 0, and without a
 * floor any wiggle would be infinitely anomalous.
 */
export const MIN_LOG_SIGMA = 0.05;

/**
 * Minimum-traffic floor, relative to the series' typical level (its 95th percentile):
 * values are shifted by this much before taking logarithms. Default: 0.1. Why: at very
 * low traffic ratios explode (0.01 → 0.03 req/s is "×3"); the shift makes changes far below
 * the usual level count for little, while a drop to zero from normal traffic still does.
 */
export const TRAFFIC_FLOOR_RATIO = 0.1;

/**
 * Absolute floor under {@link TRAFFIC_FLOOR_RATIO} for series that are (almost) always 0.
 * Default: 1e-6.
 */
export const TRAFFIC_FLOOR_MIN = 1e-6;

/**
 * Normalized deviation at which the score reaches 10·tanh(1) ≈ 7.6. Default: 4.
 * score = 10 · tanh(z / SCORE_SCALE), where z is the deviation beyond
 * {@link TOLERATED_FACTOR} in units of the noise scale.
 */
export const SCORE_SCALE = 4;

/**
 * Score from which a point is anomalous. Default: 5 (z ≈ 2.2 noise scales beyond the
 * tolerated factor). Why: the middle of the 0–10 scale that Argo CD's anomaly charts use.
 */
export const ALERT_SCORE = 5;

/**
 * Fewest anomalous points a window needs to be reported. Default: 2. Why: one odd scrape is
 * not an incident; two in a row (10 minutes at a 5-minute step) is the shortest thing a
 * person would call one.
 */
export const MIN_WINDOW_ANOMALOUS_POINTS = 2;

/**
 * Normal points allowed inside a window before it is closed. Default: 2. Why: a
 * deviation hovering around the threshold should be one window, not a flickering dozen.
 */
export const MAX_NORMAL_POINTS_IN_WINDOW = 2;
