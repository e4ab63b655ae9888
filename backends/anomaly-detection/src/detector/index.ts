export { detectAnomalies, inferStep, type DetectOptions } from './detect-anomalies';
export type {
  AnomalyWindow,
  DetectionResult,
  DetectionSummary,
  ScorePoint,
  SeriesPoint,
} from './types';
export * as parameters from './parameters';
