import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedRuntimeEnv, loadLocalSettings } from '../../../functions/local/local-settings.ts';
import { type LocalRuntime, startLocalRuntime } from '../../../functions/local/runtime.ts';
import type { DetectionRecord } from '../../../functions/service/domain/detection-record.ts';
import type { ResultFilter } from '../../../functions/service/ports/result-store.ts';
import { silentLog } from '../../../functions/service/log.ts';
import { keys } from '../../../functions/service/store/table-definition.ts';
import { tableOf } from '../../helpers/table.ts';

/** 300 results, one in 30 anomalous: the sparse filter a plant with a good line sees every day. */
const TOTAL = 300;
const EVERY = 30;

const record = (projectId: string, i: number): DetectionRecord =>
  ({
    id: `r_${new Date(Date.UTC(2026, 11, 1, 0, 0, i)).toISOString()}_${String(i).padStart(4, '0')}`,
    projectId,
    batchId: 'b',
    createdAt: new Date(Date.UTC(2026, 11, 1, 0, 0, i)).toISOString(),
    result: { is_anomalous: i % EVERY === 0 },
  }) as unknown as DetectionRecord;

describe('store: filtered listings fill their pages (DynamoDB filters after Limit)', () => {
  let dataDir: string;
  let runtime: LocalRuntime;
  let projectId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-pages-'));
    runtime = await startLocalRuntime(
      loadLocalSettings({ ...isolatedRuntimeEnv(dataDir), FAULTLINE_ACCESS_LOG: 'false' }),
      silentLog,
    );
    const created = await fetch(`${runtime.url}/api/v1/projects`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': runtime.apiKey! },
      body: JSON.stringify({ name: 'pages' }),
    });
    projectId = ((await created.json()) as { id: string }).id;
    for (let i = 0; i < TOTAL; i += 25)
      await Promise.all(Array.from({ length: 25 }, (_, k) => runtime.services.results.put(record(projectId, i + k))));
  }, 60_000);
  afterAll(async () => {
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Every page of a listing, following cursors. */
  async function pages(filter: ResultFilter, limit: number): Promise<DetectionRecord[][]> {
    const out: DetectionRecord[][] = [];
    let cursor: string | undefined;
    do {
      const page = await runtime.services.results.list(projectId, filter, limit, cursor);
      out.push(page.items);
      cursor = page.cursor ?? undefined;
    } while (cursor && out.length < 50);
    return out;
  }

  it('answers full pages of sparse matches, newest first, each once, and no cursor after the last', async () => {
    const anomalous = Array.from({ length: TOTAL / EVERY }, (_, k) => record(projectId, k * EVERY).id).reverse();
    const byFour = await pages({ anomalousOnly: true }, 4);
    expect(byFour.map((p) => p.length)).toEqual([4, 4, 2]);
    expect(byFour.flat().map((r) => r.id)).toEqual(anomalous);
    const one = await pages({ anomalousOnly: true }, 20);
    expect(one.map((p) => p.length)).toEqual([10]);
  });

  it('fills pages for the review filter and the unfiltered listing too', async () => {
    await runtime.services.reviews.setIf(
      projectId,
      record(projectId, 7).id,
      {
        verdict: 'normal',
        defectType: null,
        note: null,
        reviewedBy: 'test',
        reviewedAt: new Date().toISOString(),
        revision: 1,
      },
      0,
    );
    const reviewed = await pages({ review: 'reviewed' }, 5);
    expect(reviewed.flat().map((r) => r.id)).toEqual([record(projectId, 7).id]);
    expect(reviewed.length).toBe(1);
    const unreviewed = await pages({ review: 'unreviewed' }, 100);
    expect(unreviewed.map((p) => p.length)).toEqual([100, 100, 99]);
    const all = await pages({}, 128);
    expect(all.map((p) => p.length)).toEqual([128, 128, 44]);
  });

  it('reads a result stored before the one spelling (visualisationKeys) as the API spells it', async () => {
    const { db, table } = await tableOf(runtime);
    const old = { ...record(projectId, 9_999), visualisationKeys: { overlay: 'results/p/r/overlay.png' } };
    await db.send(new PutCommand({ TableName: table, Item: { ...keys.result(projectId, old.id), ...old } }));
    const read = await runtime.services.results.get(projectId, old.id);
    expect(read?.visualizationKeys).toEqual({ overlay: 'results/p/r/overlay.png' });
    expect(read).not.toHaveProperty('visualisationKeys');
  });
});
