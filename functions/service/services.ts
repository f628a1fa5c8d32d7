import type { ServiceConfig } from './config.ts';
import type { Log } from './log.ts';
import type { MetricsSink } from './ports/metrics.ts';
import type { ModelCache } from './models/model-cache.ts';
import type { ApiKeyStore } from './ports/api-key-store.ts';
import type { EventPublisher } from './ports/event-publisher.ts';
import type { ImageStore } from './ports/image-store.ts';
import type { JobStore } from './ports/job-store.ts';
import type { ModelStore } from './ports/model-store.ts';
import type { ObjectStore } from './ports/object-store.ts';
import type { PointStream } from './ports/point-stream.ts';
import type { ProjectStore } from './ports/project-store.ts';
import type { ResultStore } from './ports/result-store.ts';
import type { ReviewStore } from './ports/review-store.ts';
import type { SensorStore } from './ports/sensor-store.ts';
import type { SeriesStore } from './ports/series-store.ts';
import type { LiveConnectionStore } from './ports/live-connection-store.ts';
import type { WebhookDeliveryStore } from './ports/webhook-delivery-store.ts';
import type { WorkQueue } from './ports/work-queue.ts';
import type { UploadedModelStore } from './ports/uploaded-model-store.ts';
import type { ModelResultStore } from './ports/model-result-store.ts';
import type { ClassificationRecord } from './domain/classification-record.ts';
import type { ObjectDetectionRecord } from './domain/object-detection-record.ts';

/**
 * Everything the service modules work with, typed on the ports only: which database, bucket or queue sits behind them
 * is decided where they are built (adapters/aws-services.ts, from the settings).
 */
export interface Services {
  config: ServiceConfig;
  log: Log;
  /** The metrics of telemetry/metric-catalog.ts: CloudWatch EMF in AWS, plus Prometheus locally. */
  metrics: MetricsSink;
  objects: ObjectStore;
  queue: WorkQueue;
  deadLetters?: WorkQueue;
  /** Webhook deliveries (and their retries), apart from the work queue. */
  webhookQueue?: WorkQueue;
  events: EventPublisher;
  projects: ProjectStore;
  images: ImageStore;
  jobs: JobStore;
  models: ModelStore;
  results: ResultStore;
  reviews: ReviewStore;
  apiKeys: ApiKeyStore;
  webhookDeliveries: WebhookDeliveryStore;
  modelCache: ModelCache;
  /** ONNX model versions with their specs (classification projects). */
  uploadedModels: UploadedModelStore;
  classifications: ModelResultStore<ClassificationRecord>;
  /** Sites, assets, metrics and their anomalies (sensors projects). */
  sensors: SensorStore;
  /** Detector state and points per metric. */
  series: SeriesStore;
  /** The stream points go through to the detector; undefined when FAULTLINE_POINT_STREAM is unset. */
  pointStream?: PointStream;
  objectDetections: ModelResultStore<ObjectDetectionRecord>;
  /** Connections and subscriptions of the WebSocket API in AWS (the local feed keeps them in memory). */
  liveConnections: LiveConnectionStore;
}
