/**
 * Tuning parameters of the detector. Each is a named constant so the README, the
 * evaluation (`npm run eval`) and the code talk about the same numbers. Durations are in
 * seconds and converted to points with the series' step (never fewer than the stated
 * minimum number of points). There is no tolerated factor: every threshold is in units of
 * the series' own noise (σ), estimated from the series itself.
 */

/**
 * Largest seasonal lag, in days: the reference for a point is built from the same time
 * of day 1…14 days earlier. Why: daily and weekly cycles are what workload metrics have;
 * the service fetches two weeks of history.
 */
export const MAX_LAG_DAYS = 14;

/**
 * Most earlier days whose median shape forms the seasonal shape: the nearest days of the
 * same type (weekday or weekend) within {@link MAX_LAG_DAYS}. Default: 5. Why: a median of
 * up to five ignores a one-off event on one or two of them (last week's incident is not an
 * expectation); anomalous points leave no shape, so the median takes the other days there.
 */
export const MAX_SEASONAL_LAGS = 5;

/**
 * A deviation repeats an earlier one (a pattern) when they differ by at most this many σ.
 * Default: 4.5. Why: a point's deviation and a smoothed earlier one differ by ~1.1 σ from
 * noise alone, so a recurring event is recognised nearly always; a one-off incident that
 * happens to be as large as an earlier one is rare. With 3, the weekly job's third
 * occurrence was flagged in 9 of 12 evaluation series.
 */
export const PATTERN_AGREEMENT_SIGMAS = 4.5;

/**
 * Half-width of the running median that smooths each lag's values, in points. Default: 2
 * (a median of 5). Why: it cuts the reference's noise roughly in half and, unlike a mean,
 * keeps hard edges (a job starting at 09:00) sharp.
 */
export const LAG_SMOOTHING_HALF_WIDTH = 2;

/**
 * Trailing window of the level: the median of the residuals (value − seasonal shape) of
 * normal points of the same day type. Default: 43200 (12 hours). Why: slow day-to-day
 * wander is absorbed, while a drift (×1.5 over a day) stays well away from a median that
 * lags it by six hours, so the CUSUM sees it (with 6 hours, 4 of 24 evaluation drifts
 * were missed).
 */
export const LEVEL_WINDOW_SECONDS = 12 * 3600;

/**
 * Without seasonal history (a workload created less than a day ago, or a lag missing),
 * the level is a robust straight line through the trailing window of this length (the
 * medians of its two halves), extrapolated to the point. Default: 3600 (1 hour). Why: a
 * daily cycle moves a metric by up to ~15 % an hour; a line follows it where a median
 * would lag, and an hour of points is enough for a robust estimate.
 */
export const TREND_WINDOW_SECONDS = 3600;

/**
 * Trailing window of the noise estimate: σ = 1.4826 · median |Δ| / √2 over the
 * differences Δ of consecutive residuals. Default: 86400 (1 day). Why: differences cancel
 * levels, cycles and steps, so the estimate is the series' own point-to-point noise, and
 * a day covers quiet nights and busy days alike.
 */
export const NOISE_WINDOW_SECONDS = 86400;

/**
 * Fewest points with data a trailing window needs before a point is scored. Default: 12.
 * Why: a median of fewer is noise; earlier points get a `null` score ("unknown").
 */
export const MIN_WINDOW_POINTS = 12;

/**
 * Lower bound of σ in log units. Default: 0.02 (2 %). Why: a perfectly flat or perfectly
 * smooth metric (synthetic data, a gauge that barely moves) has no measurable noise, and
 * without a floor any wiggle would be anomalous; real workload noise is several percent
 * (3–8 % in the evaluation set, where the floor never binds).
 */
export const MIN_LOG_SIGMA = 0.02;

/**
 * Minimum-traffic floor for log-scaled (non-count) series, × the series' 95th
 * percentile: values are shifted by this much before taking logarithms. Default: 0.02.
 * Why: ratios explode near zero (0.01 → 0.03 is "×3"); the shift makes changes far below
 * the usual level count for little, while a drop to zero from normal traffic still does.
 * The shift also makes a shape depend on the level: with 0.05, office hours ×3.5 read
 * ×3.2 on a weekend at ×0.6, so every weekend edge looked like a change (seed 1 of the
 * evaluation: level shift F1 0.906, burst 0.727, most false windows on the weekend); 0.02
 * meets every target on seeds 1–10 (0.01 misses level shifts on seed 1).
 */
export const TRAFFIC_FLOOR_RATIO = 0.02;

/** Absolute floor under {@link TRAFFIC_FLOOR_RATIO} for series that are (almost) always 0. */
export const TRAFFIC_FLOOR_MIN = 1e-6;

/**
 * A series whose values are all non-negative integers with a 95th percentile of at most
 * this is a count (errors, restarts per step) and is modelled as Poisson: the detector
 * works on the Anscombe transform 2·√(x + 3/8), whose noise is σ ≈ 1 whatever the mean.
 * Default: 100. Why: in log space 0 → 1 reads as a huge factor, so a sparse error counter
 * would alert on every odd error; under the Poisson model two errors after none are
 * 1.9 σ (normal) and forty are 11 σ (an incident).
 */
export const COUNT_MAX_P95 = 100;

/** Lower bound of σ for counts (Anscombe units): the Poisson noise. Default: 1. */
export const MIN_COUNT_SIGMA = 1;

/**
 * CUSUM allowance k, in σ: each point adds (z − k) to the one-sided sums. Default: 1.75.
 * Why: the residual is not white (day-to-day wander, the seasonal shape's own error), so
 * deviations of about 1 σ last for hours in clean data; on the evaluation set k = 1 gave
 * ~0.5 false windows per clean day, k = 1.5 0.04, k = 1.75 (h = 5) 0.011. A ×1.3 step at 8 %
 * noise (~3 σ) still adds over 1 per point, and a drift is caught once it is ~2 σ away
 * from the 12-hour level.
 */
export const CUSUM_ALLOWANCE = 1.75;

/**
 * CUSUM decision threshold h, in σ. Default: 5. Why: a spike of 3 points at 4 σ adds
 * ~6.75 and crosses it; a 3 σ step crosses it in ~4 points; clean data (with k = 1.75)
 * crosses it ~0.011 times per day on the evaluation set.
 */
export const CUSUM_THRESHOLD = 5;

/**
 * Points of the spike test: a window also opens when the last this many z's are all on
 * one side and add up to at least {@link SPIKE_SUM_THRESHOLD}. Default: 3. Why: the CUSUM's
 * allowance costs a short spike k per point, so a 4 σ spike of 3 points reached its
 * threshold only about half the time.
 */
export const SPIKE_POINTS = 3;

/** Threshold of the spike test's sum of z (in σ). Default: 9. */
export const SPIKE_SUM_THRESHOLD = 9;

/**
 * A window is closed as "back to normal" when the median z of the last
 * {@link RETURN_POINTS} points, in the window's direction, is below this. Default: 1.
 */
export const RETURN_Z = 1;

/** Points the return-to-normal test looks at. Default: 5. */
export const RETURN_POINTS = 5;

/**
 * A window still open this long after its onset is re-baselined: the level becomes the
 * median residual of the last {@link REBASELINE_RECENT_SECONDS}, the CUSUM restarts and
 * the window closes. Default: 3600 (1 hour). Why: a lasting step (a release) is reported
 * once, from its onset, and then is the new normal; a drift that keeps running crosses
 * the threshold again and is reported again, while it runs.
 */
export const REBASELINE_SECONDS = 3600;

/** Trailing time whose median residual becomes the new level when re-baselining (min 5 points). */
export const REBASELINE_RECENT_SECONDS = 900;

/**
 * Normalized deviation at which the score reaches 10·tanh(1) ≈ 7.6. Default: 4.
 * score = 10 · tanh(|z| / SCORE_SCALE), at least ALERT_SCORE inside a window and below it
 * outside one.
 */
export const SCORE_SCALE = 4;

/** Score of the points in a window, at least (and the ceiling outside windows). Default: 5. */
export const ALERT_SCORE = 5;

/**
 * Fewest points with data a window needs to be reported. Default: 2. Why: one odd scrape
 * is not an incident (a huge single point still pushes the CUSUM over its threshold).
 */
export const MIN_WINDOW_ANOMALOUS_POINTS = 2;

/**
 * Lags checked for a recurring pattern besides the days 1…{@link MAX_LAG_DAYS}: 1 and 2
 * weeks (a weekly batch job). A point's deviation is a pattern when the deviations at the
 * same time on at least two earlier days or weeks agree with it (within
 * {@link PATTERN_AGREEMENT_SIGMAS}): the job seen on the two previous weeks, a hard edge at
 * 09:00 seen on the two previous days. Last week's one-off incident is seen once: no pattern.
 */
export const WEEKLY_PATTERN_LAGS_SECONDS: readonly [number, number] = [7 * 86400, 14 * 86400];

/**
 * The lags the service fetches history for (plan-queries.ts): 1, 2, 3 days and 1, 2
 * weeks. The detector itself uses whichever of the days 1…{@link MAX_LAG_DAYS} the input
 * covers.
 */
export const SEASONAL_LAGS_SECONDS: readonly number[] = [
  86400,
  2 * 86400,
  3 * 86400,
  7 * 86400,
  14 * 86400,
];

/**
 * History the service fetches before each lagged range, so that the detector's trailing
 * windows are warm there and it can judge (and clean) those past points. Default: 43200
 * (12 hours, twice {@link LEVEL_WINDOW_SECONDS}).
 */
export const HISTORY_WARM_UP_SECONDS = 12 * 3600;
