import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClientConfig, type StandIns, startStandIns } from '../../../functions/local/aws/stand-ins.ts';
import { tableDefinition } from '../../../functions/service/store/table-definition.ts';

/** TransactWriteItems on the DynamoDB stand-in (functions/local/aws/dynalite-transactions.ts): dynalite has none. */
const TABLE = 'items';
let dataDir: string;
let standIns: StandIns;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'faultline-transactions-'));
  standIns = await startStandIns({
    dataDir,
    bucket: 'faultline-test',
    // The service's own table (keys and index), so the index upkeep under a transaction is the real one.
    tables: [tableDefinition(TABLE)],
    queues: [],
    corsAllowedOrigins: [],
    onS3Event: () => {},
    log: () => {},
  });
  db = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig(standIns).dynamodb));
});

afterAll(async () => {
  db?.destroy();
  await standIns?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const owner = (id: string) => ({ pk: `P#${id}`, sk: 'P' });
const child = (id: string, n: number) => ({ pk: `P#${id}`, sk: `C#${n}` });
/** A child put only while its owner exists and is not marked. */
const putChild = (id: string, n: number, extra: Record<string, unknown> = {}) =>
  db.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          ConditionCheck: {
            TableName: TABLE,
            Key: owner(id),
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deletingAt)',
          },
        },
        {
          Put: {
            TableName: TABLE,
            Item: { ...child(id, n), gsi1pk: `B#${id}`, gsi1sk: String(n), ...extra },
            ConditionExpression: 'attribute_not_exists(#review)',
            ExpressionAttributeNames: { '#review': 'review' },
          },
        },
      ],
    }),
  );
const read = async (key: Record<string, string>) =>
  (await db.send(new GetCommand({ TableName: TABLE, Key: key, ConsistentRead: true }))).Item;

describe('DynamoDB stand-in: TransactWriteItems', () => {
  it('writes every item when every condition holds, with the indexes kept', async () => {
    await db.send(new PutCommand({ TableName: TABLE, Item: { ...owner('a'), name: 'a' } }));
    await putChild('a', 1, { v: 1 });
    expect(await read(child('a', 1))).toMatchObject({ v: 1 });
    const byIndex = await db.send(
      new QueryCommand({
        TableName: TABLE,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :b',
        ExpressionAttributeValues: { ':b': 'B#a' },
      }),
    );
    expect(byIndex.Items?.map((i) => i.sk)).toEqual(['C#1']);
  });

  it('writes nothing when a condition fails, and names which one (TransactionCanceledException)', async () => {
    const missing = await putChild('nobody', 1).catch((e) => e);
    expect(missing.name).toBe('TransactionCanceledException');
    expect(missing.CancellationReasons.map((r: { Code: string }) => r.Code)).toEqual([
      'ConditionalCheckFailed',
      'None',
    ]);
    expect(await read(child('nobody', 1))).toBeUndefined();

    await db.send(new PutCommand({ TableName: TABLE, Item: { ...owner('b') } }));
    await db.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: owner('b'),
        UpdateExpression: 'SET deletingAt = :now',
        ExpressionAttributeValues: { ':now': 'now' },
      }),
    );
    const marked = await putChild('b', 1).catch((e) => e);
    expect(marked.CancellationReasons.map((r: { Code: string }) => r.Code)).toEqual(['ConditionalCheckFailed', 'None']);
    expect(await read(child('b', 1))).toBeUndefined();

    // The second item's own condition: a reviewed child is not replaced, and its review stays.
    await db.send(new PutCommand({ TableName: TABLE, Item: { ...owner('c') } }));
    await putChild('c', 1, { review: { verdict: 'false_alarm' } });
    const reviewed = await putChild('c', 1, { v: 2 }).catch((e) => e);
    expect(reviewed.CancellationReasons.map((r: { Code: string }) => r.Code)).toEqual([
      'None',
      'ConditionalCheckFailed',
    ]);
    expect(await read(child('c', 1))).toMatchObject({ review: { verdict: 'false_alarm' } });
    expect((await read(child('c', 1)))?.v).toBeUndefined();
  });

  it('runs Delete, and refuses what it does not run: Update, two operations on one item, no items', async () => {
    await db.send(new PutCommand({ TableName: TABLE, Item: { ...owner('d') } }));
    await putChild('d', 1);
    await db.send(
      new TransactWriteCommand({
        TransactItems: [
          { ConditionCheck: { TableName: TABLE, Key: owner('d'), ConditionExpression: 'attribute_exists(pk)' } },
          { Delete: { TableName: TABLE, Key: child('d', 1) } },
        ],
      }),
    );
    expect(await read(child('d', 1))).toBeUndefined();

    const update = await db
      .send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: TABLE,
                Key: owner('d'),
                UpdateExpression: 'SET x = :x',
                ExpressionAttributeValues: { ':x': 1 },
              },
            },
          ],
        }),
      )
      .catch((e) => e);
    expect(update.name).toBe('ValidationException');
    expect(update.message).toMatch(/no Update/);
    const twice = await db
      .send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: TABLE, Item: { ...child('d', 2) } } },
            { Delete: { TableName: TABLE, Key: child('d', 2) } },
          ],
        }),
      )
      .catch((e) => e);
    expect(twice.name).toBe('ValidationException');
    expect(await read(child('d', 2))).toBeUndefined();
    const none = await db.send(new TransactWriteCommand({ TransactItems: [] })).catch((e) => e);
    expect(none.name).toBe('ValidationException');
  });
});
