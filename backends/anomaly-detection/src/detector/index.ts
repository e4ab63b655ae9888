export { BAND_SIGMAS, detectAnomalies, inferStep, type DetectOptions } from './detect-anomalies';
export type {
  AnomalyWindow,
  BandPoint,
  Baseline,
  DetectionResult,
  DetectionSummary,
  ScorePoint,
  SeriesPoint,
  WindowExplanation,
} from './types';
export * as parameters from './parameters';
