import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedDir } from '../../functions/engine/paths.ts';
import { isolatedRuntimeEnv, loadLocalSettings } from '../../functions/local/local-settings.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { silentLog } from '../../functions/service/log.ts';
import { waitFor } from '../helpers/wait-for.ts';

const cookie = join(sharedDir(), 'datasets', 'cookie');

/**
 * The review loop end to end on real cookies: a model from 3 normal images calls test-normal-1 faulty; reviewed as a
 * false alarm, an incremental version (its patches added to the bank) passes it and still catches a crack; the
 * threshold recalibrates on confirmed defects; the previous version is one call away. And the reviews API's bad input.
 */
describe.skipIf(!existsSync(cookie))('reviews and the versions made from them', () => {
  let runtime: LocalRuntime;
  let dataDir: string;
  let project: { id: string };
  const results: Record<string, any> = {};
  const api = async (path: string, init?: RequestInit & { json?: unknown }) => {
    const response = await fetch(`${runtime.url}${path}`, {
      ...init,
      ...(init?.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
      headers: {
        'x-api-key': runtime.apiKey!,
        ...(init?.json !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(init?.headers as Record<string, string>),
      },
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const review = (resultId: string, json: unknown) =>
    api(`/api/v1/projects/${project.id}/results/${resultId}/review`, { method: 'POST', json });
  const finished = (jobId: string) =>
    waitFor(
      `job ${jobId}`,
      async () => {
        const job = (await api(`/api/v1/jobs/${jobId}`)).body;
        return job.status === 'SUCCEEDED' || job.status === 'FAILED' ? job : undefined;
      },
      120_000,
    );
  const detect = async (path: string) => {
    const form = new FormData();
    form.append('file', new Blob([await readFile(join(cookie, 'test', path))]), path.split('/').pop());
    form.append('return_visualizations', 'false');
    return (await api(`/api/v1/projects/${project.id}/detect`, { method: 'POST', body: form })).body;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-reviews-'));
    runtime = await startLocalRuntime(
      loadLocalSettings({ ...isolatedRuntimeEnv(dataDir), FAULTLINE_ACCESS_LOG: 'false' }),
      silentLog,
    );
    project = (await api('/api/v1/projects', { method: 'POST', json: { name: 'reviews' } })).body;
    const form = new FormData();
    for (const name of readdirSync(join(cookie, 'train', 'good'))
      .sort()
      .slice(0, 3))
      form.append('files', new Blob([await readFile(join(cookie, 'train', 'good', name))]), name);
    expect((await api(`/api/v1/projects/${project.id}/images`, { method: 'POST', body: form })).status).toBe(200);
    const train = await api(`/api/v1/projects/${project.id}/train`, { method: 'POST' });
    expect((await finished(train.body.id)).status).toBe('SUCCEEDED');
    // Through the drop folder, whose images the service keeps (the bank update reads them).
    for (const [name, path] of [
      ['false-alarm', 'good/test-normal-1.jpg'],
      ['crack', 'cracked/anomaly-1.jpg'],
      ['good', 'good/test-normal-10.jpg'],
    ])
      await runtime.services.objects.put(
        `inbox/${project.id}/line-1/${name}.jpg`,
        await readFile(join(cookie, 'test', path)),
        'image/jpeg',
      );
    const listed = await waitFor('3 drop-folder results', async () => {
      const page = (await api(`/api/v1/projects/${project.id}/results?limit=10`)).body;
      return page.items.length === 3 ? page.items : undefined;
    });
    for (const r of listed) results[r.source.name.replace('line-1/', '').replace('.jpg', '')] = r;
  }, 240_000);
  afterAll(async () => {
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses bad reviews with a 4xx: unknown result, bad verdict, stray fields, malformed ids', async () => {
    const unknown = await review('r_20260101000000000_deadbeef', { verdict: 'normal' });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'NOT_FOUND']);
    const verdict = await review(results.good.id, { verdict: 'ok' });
    expect([verdict.status, verdict.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    const stray = await review(results.good.id, { verdict: 'normal', reviewer: 'someone else' });
    expect(stray.status).toBe(400);
    const typeOnNormal = await review(results.good.id, { verdict: 'normal', defectType: 'crack' });
    expect(typeOnNormal.status).toBe(400);
    const badId = await review('..%2F..%2Fx', { verdict: 'normal' });
    expect(badId.status).toBe(400);
    const longNote = await review(results.good.id, { verdict: 'unsure', note: 'x'.repeat(2001) });
    expect(longNote.status).toBe(400);
    const otherProject = await api(
      `/api/v1/projects/00000000-0000-4000-8000-000000000000/results/${results.good.id}/review`,
      { method: 'POST', json: { verdict: 'normal' } },
    );
    expect(otherProject.status).toBe(404);
    const nothingToLearn = await api(`/api/v1/projects/${project.id}/update-bank`, { method: 'POST' });
    expect([nothingToLearn.status, nothingToLearn.body.error.code]).toEqual([409, 'CONFLICT']);
    const noDefects = await api(`/api/v1/projects/${project.id}/recalibrate`, { method: 'POST' });
    expect([noDefects.status, noDefects.body.error.code]).toEqual([409, 'CONFLICT']);
    expect((await runtime.services.results.get(project.id, results.good.id))!.review).toBeUndefined();
  });

  it('re-reviews race-safely: parallel reviews each land whole as the next revision; a stale revision is a 409', async () => {
    const id = results.good.id;
    const verdicts = ['normal', 'unsure', 'defect'] as const;
    const parallel = await Promise.all(
      Array.from({ length: 12 }, (_, i) => review(id, { verdict: verdicts[i % 3], note: `review ${i}` })),
    );
    expect(parallel.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(new Set(parallel.map((r) => r.body.revision))).toEqual(new Set(Array.from({ length: 12 }, (_, i) => i + 1)));
    const stored = (await api(`/api/v1/projects/${project.id}/results/${id}`)).body.review;
    const last = parallel.find((r) => r.body.revision === 12)!.body;
    expect(stored).toEqual(last); // the last writer's review, whole (verdict and note from the same request)
    expect(stored.reviewedBy).toMatch(/^key:[0-9a-f]+$/); // the caller's principal

    const racing = await Promise.all(
      Array.from({ length: 6 }, () => review(id, { verdict: 'normal', expectedRevision: 12 })),
    );
    expect(racing.filter((r) => r.status === 200)).toHaveLength(1);
    expect(racing.filter((r) => r.status === 409).every((r) => r.body.error.code === 'CONFLICT')).toBe(true);
    const stale = await review(id, { verdict: 'defect', expectedRevision: 3 });
    expect([stale.status, stale.body.error.details.revision]).toEqual([409, 13]);

    // A retried detection job writing its result again keeps the review.
    const { review: kept, ...unreviewed } = (await runtime.services.results.get(project.id, id))!;
    await runtime.services.results.put(unreviewed);
    expect((await runtime.services.results.get(project.id, id))!.review).toEqual(kept);
  });

  it('lists reviews, filters results by review and measures precision and recall per model version', async () => {
    expect(results['false-alarm'].result.is_anomalous).toBe(true);
    expect(results.crack.result.is_anomalous).toBe(true);
    expect(results.good.result.is_anomalous).toBe(false);
    expect((await review(results['false-alarm'].id, { verdict: 'normal', note: 'a crumb' })).status).toBe(200);
    const defect = await review(results.crack.id, { verdict: 'defect', defectType: 'crack' });
    expect(defect.body).toMatchObject({ verdict: 'defect', defectType: 'crack', revision: 1 });

    const reviews = (await api(`/api/v1/projects/${project.id}/reviews`)).body.items;
    expect(reviews.map((r: any) => r.resultId).sort()).toEqual(
      [results.good.id, results['false-alarm'].id, results.crack.id].sort(),
    );
    const defects = (await api(`/api/v1/projects/${project.id}/reviews?verdict=defect`)).body.items;
    expect(defects.map((r: any) => r.resultId)).toEqual([results.crack.id]);
    const unreviewed = (await api(`/api/v1/projects/${project.id}/results?review=unreviewed`)).body.items;
    expect(unreviewed).toEqual([]);
    const normal = (await api(`/api/v1/projects/${project.id}/results?review=normal`)).body.items;
    expect(normal.map((r: any) => r.id).sort()).toEqual([results.good.id, results['false-alarm'].id].sort());
    expect((await api(`/api/v1/projects/${project.id}/results?review=maybe`)).status).toBe(400);

    const metrics = (await api(`/api/v1/projects/${project.id}/review-metrics?period=day`)).body.items;
    expect(metrics).toEqual([
      expect.objectContaining({
        modelVersion: 'v1',
        reviewed: 3,
        truePositives: 1,
        falsePositives: 1,
        trueNegatives: 1,
        falseNegatives: 0,
        precision: 0.5,
        recall: 1,
      }),
    ]);
    expect((await api(`/api/v1/projects/${project.id}/review-metrics?period=year`)).status).toBe(400);
  });

  it('makes an incremental version from the false alarm: it now passes, the crack is still caught; v1 stays one call away', async () => {
    const before = await detect('good/test-normal-1.jpg');
    expect(before.is_anomalous).toBe(true);
    const update = await api(`/api/v1/projects/${project.id}/update-bank`, {
      method: 'POST',
      headers: { 'idempotency-key': 'learn-1' },
    });
    expect([update.status, update.body.type]).toEqual([202, 'update-bank']);
    const job = await finished(update.body.id);
    expect(job).toMatchObject({
      status: 'SUCCEEDED',
      output: { modelVersion: 2, baseVersion: 1, addedImages: 1, withoutImage: 0, remaining: 0 },
    });
    expect(job.output.addedRows).toBeGreaterThan(0);
    const v2 = (await api(`/api/v1/projects/${project.id}/models/2`)).body;
    expect(v2).toMatchObject({
      active: true,
      bankRows: job.output.bankRows,
      derivedFrom: { version: 1, by: 'update-bank', images: 1 },
    });

    const after = await detect('good/test-normal-1.jpg');
    expect([after.model_version, after.is_anomalous]).toEqual(['v2', false]);
    expect(after.anomaly_score).toBeLessThan(before.anomaly_score);
    expect((await detect('cracked/anomaly-1.jpg')).is_anomalous).toBe(true);
    expect((await detect('cracked/anomaly-2.jpg')).is_anomalous).toBe(true);

    // The same false alarm is not added twice.
    const again = await api(`/api/v1/projects/${project.id}/update-bank`, { method: 'POST' });
    expect((await finished(again.body.id)).error.code).toBe('CONFLICT');

    const back = await api(`/api/v1/projects/${project.id}/models/1/activate`, { method: 'POST' });
    expect([back.status, back.body.active]).toEqual([200, true]);
    expect((await detect('good/test-normal-1.jpg')).model_version).toBe('v1');
  });

  it('keeps flagged API uploads only when the project asks (keepFlaggedImages), and learns from them too', async () => {
    const notKept = await detect('good/test-normal-1.jpg'); // v1 is active again: flagged, but not kept by default
    expect(notKept.is_anomalous).toBe(true);
    expect((await api(`/api/v1/projects/${project.id}/results/${notKept.result_id}`)).body).not.toHaveProperty(
      'image_url',
    );
    const on = await api(`/api/v1/projects/${project.id}`, { method: 'PATCH', json: { keepFlaggedImages: true } });
    expect([on.status, on.body.keepFlaggedImages]).toEqual([200, true]);
    expect(
      (await api(`/api/v1/projects/${project.id}`, { method: 'PATCH', json: { keepFlaggedImages: 'yes' } })).status,
    ).toBe(400);
    const flagged = await detect('good/test-normal-1.jpg');
    const passed = await detect('good/test-normal-10.jpg');
    const stored = (await api(`/api/v1/projects/${project.id}/results/${flagged.result_id}`)).body;
    expect(stored.source.key).toBe(`results/${project.id}/api/${flagged.result_id}/image`);
    expect((await fetch(stored.image_url)).status).toBe(200);
    expect((await api(`/api/v1/projects/${project.id}/results/${passed.result_id}`)).body.source.key).toBeNull();

    expect((await review(flagged.result_id, { verdict: 'normal' })).status).toBe(200);
    const update = await api(`/api/v1/projects/${project.id}/update-bank`, { method: 'POST' });
    const job = await finished(update.body.id);
    // v1's bank gets both reviewed false alarms: the drop-folder one and the kept API upload.
    expect(job).toMatchObject({ status: 'SUCCEEDED', output: { baseVersion: 1, addedImages: 2 } });
    expect((await detect('good/test-normal-1.jpg')).is_anomalous).toBe(false);
    await api(`/api/v1/projects/${project.id}/models/1/activate`, { method: 'POST' });
  });

  it('recalibrates the threshold on the confirmed defects as a new version', async () => {
    const recalibrate = await api(`/api/v1/projects/${project.id}/recalibrate`, { method: 'POST' });
    expect([recalibrate.status, recalibrate.body.type]).toEqual([202, 'recalibrate']);
    const job = await finished(recalibrate.body.id);
    expect(job).toMatchObject({ status: 'SUCCEEDED', output: { baseVersion: 1, defects: 1, unplaced: 0 } });
    const model = (await api(`/api/v1/projects/${project.id}/models/${job.output.modelVersion}`)).body;
    expect(model).toMatchObject({
      active: true,
      thresholds: { method: 'f1-optimal' },
      derivedFrom: { version: 1, by: 'recalibrate', images: 1 },
    });
    expect(model.thresholds.image).toBe(job.output.threshold.after);
    expect((await detect('cracked/anomaly-1.jpg')).is_anomalous).toBe(true);
  });
});
