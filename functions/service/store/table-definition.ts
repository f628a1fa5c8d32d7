import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * One table for everything (projects, images, model versions, jobs, results), keyed so that each API read is one
 * Query. dynalite has no transactions, so every state change is a single-item conditional write.
 *
 *   pk                         sk                              gsi1pk                       gsi1sk
 *   PROJECT#{id}               PROJECT                         PROJECTS                     {createdAt}#{id}
 *   PROJECT#{id}               IMAGE#{objectKey}
 *   PROJECT#{id}               MODEL#{version, 6 digits}
 *   PROJECT#{id}               STAGED#{objectKey}              (a staged model's registration under way; TTL)
 *   PROJECT#{id}               RESULT#{resultId}               BATCH#{projectId}#{batchId}  {resultId}
 *   (result ids start with their creation time, so they sort by it)
 *   PROJECT#{id}               WEBHOOK#{attemptedAt}#{eventId}#{attempt, 3 digits}   (the delivery log; TTL)
 *   JOB#{id}                   JOB                             JOBS#{projectId}             {createdAt}#{id}
 *   IDEMPOTENCY#{key}          IDEMPOTENCY
 *   APIKEY#{sha256}            APIKEY                          APIKEYS                      {createdAt}#{id}
 *   PROJECT#{id}               SITE#{siteId}                   SITE#{siteId}                SITE
 *   PROJECT#{id}               ASSET#{assetId} / METRIC#{metricId} / ANOMALY#{start, 15 digits}_{metricId}_{type}
 *   (an anomaly whose event is not yet published also has gsi1pk ANOMALIES#UNPUBLISHED, gsi1sk {detectedAt}#{projectId}#{id})
 *   SERIES#{metricId}          STATE                           (the detector's state, conditional on a revision)
 *   SERIES#{metricId}          P#{hour, 15 digits}#{sequence}  (points of one stream record in one hour; TTL)
 *   LIVE#{connectionId}        CONNECTION                      (a WebSocket API connection; TTL)
 *   LIVE#{connectionId}        SUB#{subscription key}          LIVE#PROJECT#{projectId}     {connectionId}#{key}
 */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'gsi1pk', AttributeType: 'S' },
      { AttributeName: 'gsi1sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: 'gsi1',
        KeySchema: [
          { AttributeName: 'gsi1pk', KeyType: 'HASH' },
          { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

export const keys = {
  project: (id: string) => ({ pk: `PROJECT#${id}`, sk: 'PROJECT' }),
  image: (projectId: string, objectKey: string) => ({ pk: `PROJECT#${projectId}`, sk: `IMAGE#${objectKey}` }),
  model: (projectId: string, version: number) => ({
    pk: `PROJECT#${projectId}`,
    sk: `MODEL#${String(version).padStart(6, '0')}`,
  }),
  result: (projectId: string, id: string) => ({ pk: `PROJECT#${projectId}`, sk: `RESULT#${id}` }),
  uploadedModel: (projectId: string, version: number) => ({
    pk: `PROJECT#${projectId}`,
    sk: `ONNXMODEL#${String(version).padStart(6, '0')}`,
  }),
  stagedModel: (projectId: string, objectKey: string) => ({ pk: `PROJECT#${projectId}`, sk: `STAGED#${objectKey}` }),
  classification: (projectId: string, id: string) => ({ pk: `PROJECT#${projectId}`, sk: `CLASSIFICATION#${id}` }),
  objectDetection: (projectId: string, id: string) => ({ pk: `PROJECT#${projectId}`, sk: `OBJECTS#${id}` }),
  webhookDelivery: (projectId: string, attemptedAt: string, eventId: string, attempt: number) => ({
    pk: `PROJECT#${projectId}`,
    sk: `WEBHOOK#${attemptedAt}#${eventId}#${String(attempt).padStart(3, '0')}`,
  }),
  job: (id: string) => ({ pk: `JOB#${id}`, sk: 'JOB' }),
  idempotency: (key: string) => ({ pk: `IDEMPOTENCY#${key}`, sk: 'IDEMPOTENCY' }),
  site: (projectId: string, id: string) => ({ pk: `PROJECT#${projectId}`, sk: `SITE#${id}` }),
  asset: (projectId: string, id: string) => ({ pk: `PROJECT#${projectId}`, sk: `ASSET#${id}` }),
  metric: (projectId: string, id: string) => ({ pk: `PROJECT#${projectId}`, sk: `METRIC#${id}` }),
  metricAnomaly: (projectId: string, id: string) => ({ pk: `PROJECT#${projectId}`, sk: `ANOMALY#${id}` }),
  seriesState: (metricId: string) => ({ pk: `SERIES#${metricId}`, sk: 'STATE' }),
  liveConnection: (connectionId: string) => ({ pk: `LIVE#${connectionId}`, sk: 'CONNECTION' }),
  liveSubscription: (connectionId: string, key: string) => ({ pk: `LIVE#${connectionId}`, sk: `SUB#${key}` }),
  streamCheckpoint: (stream: string, shardId: string) => ({ pk: `STREAM#${stream}`, sk: `SHARD#${shardId}` }),
  archiveRun: () => ({ pk: 'SERIES-ARCHIVE', sk: 'RUN' }),
  seriesChunk: (metricId: string, hour: number, sequence: string) => ({
    pk: `SERIES#${metricId}`,
    sk: `P#${String(hour).padStart(15, '0')}#${sequence}`,
  }),
};

export const isConditionFailure = (error: unknown): boolean =>
  (error as { name?: string })?.name === 'ConditionalCheckFailedException';

/** Why a TransactWriteItems was cancelled, one code per item in order ('None', 'ConditionalCheckFailed', ...); undefined for any other error. */
export const cancellationReasons = (error: unknown): (string | undefined)[] | undefined => {
  const e = error as { name?: string; CancellationReasons?: Array<{ Code?: string }> };
  return e?.name === 'TransactionCanceledException' && e.CancellationReasons
    ? e.CancellationReasons.map((r) => r.Code)
    : undefined;
};

/** A result id that sorts by time: r_YYYYMMDDHHMMSSmmm_SUFFIX. */
export const resultId = (createdAt: string, suffix: string): string =>
  `r_${createdAt.replace(/[-:.TZ]/g, '')}_${suffix}`;

/** Splits keys into batches of 25 and deletes them (BatchWriteItem's limit), retrying what is left unprocessed. */
export async function deleteItems(
  db: DynamoDBDocumentClient,
  table: string,
  itemKeys: { pk: string; sk: string }[],
): Promise<void> {
  for (let i = 0; i < itemKeys.length; i += 25) {
    let requests = itemKeys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      const out = await db.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
      requests = (out.UnprocessedItems?.[table] ?? []) as typeof requests;
      if (requests.length > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
    }
  }
}

/** An item without the table's key attributes (and any internal fields named): the entity as stored. */
export function stripKeys<T>(item: Record<string, unknown>, ...internal: string[]): T {
  const out: Record<string, unknown> = { ...item };
  for (const k of ['pk', 'sk', 'gsi1pk', 'gsi1sk', ...internal]) delete out[k];
  return out as T;
}
