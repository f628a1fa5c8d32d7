import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Asset, Metric, MetricAnomaly, Site } from '../domain/sensors.ts';
import type { Page } from '../ports/page.ts';
import type { AnomalyFilter, SensorStore } from '../ports/sensor-store.ts';
import { isConditionFailure, keys, stripKeys } from './table-definition.ts';
import { TableRepository } from './table-repository.ts';

type Key = { pk: string; sk: string };

/** The sparse index entry of anomalies whose `Metric Anomaly` event is not yet out (gsi1sk: detectedAt#project#id). */
const UNPUBLISHED = 'ANOMALIES#UNPUBLISHED';
/** An anomaly as the service sees it: the publication flag is the store's bookkeeping. */
const anomalyOf = (item: Record<string, unknown>): MetricAnomaly => stripKeys<MetricAnomaly>(item, 'published');

/** Sites, assets, metrics and anomalies of sensors projects, in the project's partition (deleted with it). */
export class SensorRepository extends TableRepository implements SensorStore {
  private async createItem(key: Key, item: object, extra: Record<string, unknown> = {}): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...key, ...extra, ...item },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  private async getItem<T>(key: Key): Promise<T | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: key }));
    return out.Item ? stripKeys<T>(out.Item) : undefined;
  }

  /** Sets the given fields (and updatedAt) on an item that exists; undefined when it does not. */
  private async updateItem<T>(key: Key, change: Record<string, unknown>): Promise<T | undefined> {
    const fields = Object.entries({ ...change, updatedAt: new Date().toISOString() }).filter(
      ([name, v]) => v !== undefined && !['id', 'projectId', 'createdAt'].includes(name),
    );
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression: `SET ${fields.map((_, i) => `#f${i} = :v${i}`).join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: Object.fromEntries(fields.map(([name], i) => [`#f${i}`, name])),
          ExpressionAttributeValues: Object.fromEntries(fields.map(([, v], i) => [`:v${i}`, v])),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return stripKeys<T>(out.Attributes ?? {});
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  private async deleteItem(key: Key): Promise<boolean> {
    try {
      await this.db.send(
        new DeleteCommand({ TableName: this.table, Key: key, ConditionExpression: 'attribute_exists(pk)' }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  private async listPrefix<T>(projectId: string, prefix: string): Promise<T[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)',
      ExpressionAttributeValues: { ':p': keys.project(projectId).pk, ':s': prefix },
    });
    return items.map((item) => stripKeys<T>(item));
  }

  createSite(site: Site): Promise<void> {
    return this.createItem(keys.site(site.projectId, site.id), site, { gsi1pk: `SITE#${site.id}`, gsi1sk: 'SITE' });
  }
  getSite(projectId: string, siteId: string): Promise<Site | undefined> {
    return this.getItem(keys.site(projectId, siteId));
  }
  async projectOfSite(siteId: string): Promise<string | undefined> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :s',
        ExpressionAttributeValues: { ':s': `SITE#${siteId}` },
        Limit: 1,
      }),
    );
    return out.Items?.[0]?.projectId as string | undefined;
  }
  async listSites(projectId: string): Promise<Site[]> {
    return (await this.listPrefix<Site>(projectId, 'SITE#')).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
  updateSite(projectId: string, siteId: string, change: Partial<Site>): Promise<Site | undefined> {
    return this.updateItem(keys.site(projectId, siteId), change);
  }
  deleteSite(projectId: string, siteId: string): Promise<boolean> {
    return this.deleteItem(keys.site(projectId, siteId));
  }

  createAsset(asset: Asset): Promise<void> {
    return this.createItem(keys.asset(asset.projectId, asset.id), asset);
  }
  getAsset(projectId: string, assetId: string): Promise<Asset | undefined> {
    return this.getItem(keys.asset(projectId, assetId));
  }
  async listAssets(projectId: string, siteId?: string): Promise<Asset[]> {
    const all = await this.listPrefix<Asset>(projectId, 'ASSET#');
    return all.filter((a) => !siteId || a.siteId === siteId).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
  updateAsset(projectId: string, assetId: string, change: Partial<Asset>): Promise<Asset | undefined> {
    return this.updateItem(keys.asset(projectId, assetId), change);
  }
  deleteAsset(projectId: string, assetId: string): Promise<boolean> {
    return this.deleteItem(keys.asset(projectId, assetId));
  }

  createMetric(metric: Metric): Promise<void> {
    return this.createItem(keys.metric(metric.projectId, metric.id), metric);
  }
  getMetric(projectId: string, metricId: string): Promise<Metric | undefined> {
    return this.getItem(keys.metric(projectId, metricId));
  }
  async listMetrics(projectId: string, filter: { siteId?: string; assetId?: string } = {}): Promise<Metric[]> {
    const all = await this.listPrefix<Metric>(projectId, 'METRIC#');
    return all
      .filter(
        (m) => (!filter.siteId || m.siteId === filter.siteId) && (!filter.assetId || m.assetId === filter.assetId),
      )
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
  updateMetric(projectId: string, metricId: string, change: Partial<Metric>): Promise<Metric | undefined> {
    return this.updateItem(keys.metric(projectId, metricId), change);
  }
  deleteMetric(projectId: string, metricId: string): Promise<boolean> {
    return this.deleteItem(keys.metric(projectId, metricId));
  }

  async putAnomaly(anomaly: MetricAnomaly): Promise<boolean> {
    try {
      // Unpublished until its event is out: listed under the sparse index entry that markAnomalyPublished removes.
      await this.createItem(keys.metricAnomaly(anomaly.projectId, anomaly.id), anomaly, {
        published: false,
        gsi1pk: UNPUBLISHED,
        gsi1sk: `${anomaly.detectedAt}#${anomaly.projectId}#${anomaly.id}`,
      });
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
  async getAnomaly(projectId: string, anomalyId: string): Promise<MetricAnomaly | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: keys.metricAnomaly(projectId, anomalyId) }),
    );
    return out.Item ? anomalyOf(out.Item) : undefined;
  }
  async deleteAnomaly(projectId: string, anomalyId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: keys.metricAnomaly(projectId, anomalyId) }));
  }

  async unpublishedAnomalies(detectedBefore: string, limit: number, metricId?: string): Promise<MetricAnomaly[]> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :u AND gsi1sk < :before',
        FilterExpression: metricId ? 'metricId = :m' : undefined,
        ExpressionAttributeValues: {
          ':u': UNPUBLISHED,
          ':before': detectedBefore,
          ...(metricId ? { ':m': metricId } : {}),
        },
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map(anomalyOf);
  }

  async markAnomalyPublished(projectId: string, anomalyId: string): Promise<void> {
    // Conditional: a deleted anomaly (its project deleted meanwhile) is not written back as a stub.
    await this.updateIf(keys.metricAnomaly(projectId, anomalyId), {
      UpdateExpression: 'SET published = :t REMOVE gsi1pk, gsi1sk',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':t': true },
    });
  }

  async listAnomalies(
    projectId: string,
    filter: AnomalyFilter,
    limit: number,
    cursor?: string,
  ): Promise<Page<MetricAnomaly>> {
    const pad = (ms: number) => String(Math.max(0, Math.floor(ms))).padStart(15, '0');
    const conditions: string[] = [];
    const values: Record<string, unknown> = {
      ':p': keys.project(projectId).pk,
      ':from': `ANOMALY#${pad(filter.from ?? 0)}`,
      ':to': `ANOMALY#${pad(filter.to ?? 9e14)}~`,
    };
    for (const field of ['siteId', 'assetId', 'metricId', 'status'] as const) {
      if (filter[field] === undefined) continue;
      conditions.push(`#${field} = :${field}`);
      values[`:${field}`] = filter[field];
    }
    if (filter.severities?.length) {
      conditions.push(`#severity IN (${filter.severities.map((_, i) => `:sev${i}`).join(', ')})`);
      filter.severities.forEach((v, i) => (values[`:sev${i}`] = v));
    }
    const names = Object.fromEntries(
      ['siteId', 'assetId', 'metricId', 'status', 'severity']
        .filter((f) => conditions.some((c) => c.startsWith(`#${f} `)))
        .map((f) => [`#${f}`, f]),
    );
    const page = await this.queryPage(
      {
        KeyConditionExpression: 'pk = :p AND sk BETWEEN :from AND :to',
        FilterExpression: conditions.length ? conditions.join(' AND ') : undefined,
        ExpressionAttributeNames: conditions.length ? names : undefined,
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
      },
      `metric-anomalies:${projectId}:${JSON.stringify(filter)}`,
      limit,
      cursor,
    );
    return { items: page.items.map(anomalyOf), cursor: page.cursor };
  }

  async acknowledgeAnomaly(
    projectId: string,
    anomalyId: string,
    by: string,
    note: string | null,
    at: string,
  ): Promise<MetricAnomaly | undefined> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.metricAnomaly(projectId, anomalyId),
          UpdateExpression: 'SET #status = :ack, acknowledgedAt = :at, acknowledgedBy = :by, note = :note',
          ConditionExpression: 'attribute_exists(pk) AND #status = :open',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':ack': 'acknowledged', ':open': 'open', ':at': at, ':by': by, ':note': note },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return anomalyOf(out.Attributes ?? {});
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }
}
