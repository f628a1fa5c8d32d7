import type { Asset, Metric, MetricAnomaly, Site } from '../domain/sensors.ts';
import type { Page } from './page.ts';

/** Filters of the anomaly list (all optional, combined with AND). */
export interface AnomalyFilter {
  siteId?: string;
  assetId?: string;
  metricId?: string;
  severities?: string[];
  status?: 'open' | 'acknowledged';
  from?: number; // ms, on the anomaly's start
  to?: number;
}

/**
 * The sensors catalogue of a project (sites, assets, metrics) and its anomalies, under the project's partition (so they
 * go with it). Creation is conditional (an id is never taken twice); changes and deletions of something that is not
 * there answer undefined / false, never an upsert.
 */
export interface SensorStore {
  createSite(site: Site): Promise<void>;
  getSite(projectId: string, siteId: string): Promise<Site | undefined>;
  /** The project a site belongs to, from the site id alone (the older dashboard's routes name only the site). */
  projectOfSite(siteId: string): Promise<string | undefined>;
  listSites(projectId: string): Promise<Site[]>;
  updateSite(projectId: string, siteId: string, change: Partial<Site>): Promise<Site | undefined>;
  deleteSite(projectId: string, siteId: string): Promise<boolean>;

  createAsset(asset: Asset): Promise<void>;
  getAsset(projectId: string, assetId: string): Promise<Asset | undefined>;
  listAssets(projectId: string, siteId?: string): Promise<Asset[]>;
  updateAsset(projectId: string, assetId: string, change: Partial<Asset>): Promise<Asset | undefined>;
  deleteAsset(projectId: string, assetId: string): Promise<boolean>;

  createMetric(metric: Metric): Promise<void>;
  getMetric(projectId: string, metricId: string): Promise<Metric | undefined>;
  listMetrics(projectId: string, filter?: { siteId?: string; assetId?: string }): Promise<Metric[]>;
  updateMetric(projectId: string, metricId: string, change: Partial<Metric>): Promise<Metric | undefined>;
  deleteMetric(projectId: string, metricId: string): Promise<boolean>;

  /** Stores an anomaly unless one with its id is there: true when this call created it. */
  putAnomaly(anomaly: MetricAnomaly): Promise<boolean>;
  getAnomaly(projectId: string, anomalyId: string): Promise<MetricAnomaly | undefined>;
  deleteAnomaly(projectId: string, anomalyId: string): Promise<void>;
  /**
   * Anomalies stored but whose `Metric Anomaly` event is not yet published (a new anomaly is unpublished until
   * markAnomalyPublished), detected before the given ISO time, oldest first; of one metric when given.
   */
  unpublishedAnomalies(detectedBefore: string, limit: number, metricId?: string): Promise<MetricAnomaly[]>;
  markAnomalyPublished(projectId: string, anomalyId: string): Promise<void>;
  /** Newest first. */
  listAnomalies(projectId: string, filter: AnomalyFilter, limit: number, cursor?: string): Promise<Page<MetricAnomaly>>;
  /** Marks it acknowledged if it is open: the anomaly after, or undefined when it was not open (or not there). */
  acknowledgeAnomaly(
    projectId: string,
    anomalyId: string,
    by: string,
    note: string | null,
    at: string,
  ): Promise<MetricAnomaly | undefined>;
}
