import type { DetectionRecord } from '../domain/detection-record.ts';

/** A detection as its `Detection Completed` event tells it (and the live feed's replay, service/live). */
export function detectionCompletedDetail(record: DetectionRecord): Record<string, unknown> {
  const r = record.result;
  return {
    resultId: record.id,
    batchId: record.batchId,
    source: record.source,
    anomaly_score: r.anomaly_score,
    classification: r.classification,
    is_anomalous: r.is_anomalous,
    bounding_boxes: r.bounding_boxes.length,
    model_version: r.model_version,
  };
}
