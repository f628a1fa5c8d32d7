import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sharedDir } from '../../functions/engine/paths.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { LOCAL_ADMIN } from '../../functions/service/auth/principal.ts';
import { uploadImages } from '../../functions/service/datasets/datasets-service.ts';
import { detectImage, runInboxDetection } from '../../functions/service/detection/detection-service.ts';
import { inboxObjectOf } from '../../functions/service/domain/job.ts';
import { readInboxImage } from '../../functions/service/jobs/inbox-image.ts';
import { createJob } from '../../functions/service/jobs/jobs-service.ts';
import { recoverUnfinishedWork } from '../../functions/service/jobs/recovery.ts';
import { createProject, deleteProject } from '../../functions/service/projects/projects-service.ts';
import type { Services } from '../../functions/service/services.ts';
import { keys } from '../../functions/service/store/table-definition.ts';
import { requestTraining, runTraining } from '../../functions/service/training/training-service.ts';
import { testSettings } from '../helpers/local-runtime.ts';
import { tableOf } from '../helpers/table.ts';
import { waitFor } from '../helpers/wait-for.ts';

const cookie = join(sharedDir(), 'datasets', 'cookie');
const trainDir = join(cookie, 'train', 'good');
const cracked = join(cookie, 'test', 'cracked', 'anomaly-1.jpg');

/**
 * Found by probing (issue 12): check-then-act races and work that outlives its project. Against the real stand-ins,
 * with one worker polling the queue.
 */
describe.skipIf(!existsSync(cookie))(
  'races and deletion: one training at a time, deletion wins, one result per object',
  () => {
    let runtime: LocalRuntime;
    let s: Services;
    let dataDir: string;
    const logs: Record<string, unknown>[] = [];
    let trained: { id: string; name: string };
    const trainingImages = async (n: number) =>
      Promise.all(
        readdirSync(trainDir)
          .slice(0, n)
          .map(async (f) => ({ name: f, bytes: await readFile(join(trainDir, f)) })),
      );
    const newProject = async (name: string) => {
      const p = await createProject(
        s,
        { name, description: '', severityBands: [{ name: 'Normal', below: 0.5 }, { name: 'Faulty' }], threshold: 0.5 },
        LOCAL_ADMIN,
      );
      await uploadImages(s, p.id, await trainingImages(12));
      return p;
    };
    const api = async (method: string, path: string) => {
      const r = await fetch(`${runtime.url}/api/v1${path}`, { method, headers: { 'x-api-key': runtime.apiKey! } });
      return { status: r.status, body: (await r.json()) as any };
    };
    /** Everything a project left behind: objects under any of its folders, items in its partition, its jobs. */
    const leftovers = async (projectId: string) => {
      const objects: string[] = [];
      for (const folder of ['datasets', 'inbox', 'models', 'results', 'rejected'])
        objects.push(...(await s.objects.list(`${folder}/${projectId}/`)).objects.map((o) => o.key));
      const { db, table, partition } = await tableOf(runtime);
      const items = await partition(projectId);
      const jobs = await db.send(
        new QueryCommand({
          TableName: table,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :p',
          ExpressionAttributeValues: { ':p': `JOBS#${projectId}` },
        }),
      );
      return { objects, items: items.map((i) => i.sk), jobs: (jobs.Items ?? []).map((j) => j.id) };
    };
    const nothingLeft = { objects: [], items: [], jobs: [] };
    const eventsOf = (projectId: string) =>
      logs.filter((l) => l.msg === 'event' && l.projectId === projectId).map((l) => l.type);

    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'faultline-races-'));
      runtime = await startLocalRuntime(
        testSettings(dataDir, { FAULTLINE_WORKERS: '1', FAULTLINE_RATE_LIMIT: '0' }),
        (line) => logs.push(line),
      );
      s = runtime.services;
      trained = await newProject('trained');
      const { job } = await requestTraining(s, trained.id);
      await waitFor(
        'the first model',
        async () => ((await s.jobs.get(job.id))?.status === 'SUCCEEDED' ? true : undefined),
        120_000,
      );
    }, 180_000);
    afterAll(async () => {
      await runtime?.stop();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('20 parallel POST /train: exactly one 202, one job, one model version; the next training is accepted once it ends', async () => {
      const answers = await Promise.all(Array.from({ length: 20 }, () => api('POST', `/projects/${trained.id}/train`)));
      const accepted = answers.filter((a) => a.status === 202);
      expect(accepted).toHaveLength(1);
      expect(answers.filter((a) => a.status === 409).every((a) => a.body.error.code === 'TRAINING_IN_PROGRESS')).toBe(
        true,
      );
      expect(answers.filter((a) => a.status !== 202 && a.status !== 409)).toEqual([]);
      const jobId = accepted[0]!.body.id ?? accepted[0]!.body.job?.id;
      await waitFor(
        'the training',
        async () => ((await s.jobs.get(jobId))?.status === 'SUCCEEDED' ? true : undefined),
        120_000,
      );
      const trainJobs = (await s.jobs.listByProject(trained.id, 100)).items.filter((j) => j.type === 'train');
      expect(trainJobs).toHaveLength(2); // the first model's and this one
      expect((await s.models.list(trained.id)).map((m) => m.version)).toEqual([2, 1]);
      // the slot is held by a finished job now: it is taken over
      const next = await api('POST', `/projects/${trained.id}/train`);
      expect(next.status).toBe(202);
      await waitFor(
        'the third training',
        async () => ((await s.jobs.get(next.body.id ?? next.body.job?.id))?.status === 'SUCCEEDED' ? true : undefined),
        120_000,
      );
    }, 300_000);

    it('inbox photo.jpg and photo.png give two results, each with its own JSON and PNGs', async () => {
      const jpeg = await readFile(cracked);
      const png = await sharp(jpeg).png().toBuffer();
      await s.objects.put(`inbox/${trained.id}/c/photo.jpg`, jpeg, 'image/jpeg');
      await s.objects.put(`inbox/${trained.id}/c/photo.png`, png, 'image/png');
      const results = await waitFor('two results in batch c', async () => {
        const batch = await s.results.batch(trained.id, 'c');
        return batch.length === 2 ? batch : undefined;
      });
      const byName = Object.fromEntries(results.map((r) => [r.source.name, r]));
      expect(byName['c/photo.jpg']!.resultKey).toBe(`results/${trained.id}/c/photo.jpg.json`);
      expect(byName['c/photo.png']!.resultKey).toBe(`results/${trained.id}/c/photo.png.json`);
      const pngKeys = results.flatMap((r) => Object.values(r.visualizationKeys ?? {}));
      expect(new Set(pngKeys).size).toBe(10);
      for (const r of results) {
        const json = JSON.parse(new TextDecoder().decode(await s.objects.get(r.resultKey!)));
        expect(json.source).toBe(r.source.key);
        for (const key of Object.values(r.visualizationKeys ?? {})) expect(await s.objects.head(key)).toBeDefined();
      }
    });

    it('a drop-folder image over the 20 MB limit ends its job FAILED unread, like the API would refuse it', async () => {
      const key = `inbox/${trained.id}/big/huge.jpg`;
      await s.objects.put(key, Buffer.alloc(s.config.FAULTLINE_MAX_IMAGE_BYTES + 1, 0xff), 'image/jpeg');
      const job = await waitFor('the job of the big image', async () => {
        const jobs = (await s.jobs.listByProject(trained.id, 50)).items.filter(
          (j) => j.input.key === key && j.status === 'FAILED',
        );
        return jobs[0];
      });
      expect(job.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      expect(await s.results.batch(trained.id, 'big')).toEqual([]);
    });

    it('reads a drop-folder image in one request: its length checked from the answer, a longer body unread', async () => {
      // Outside inbox/, so that no job takes them: the reads below are the test's own.
      const small = `test-only/${trained.id}/small.jpg`;
      const big = `test-only/${trained.id}/big.jpg`;
      const jpeg = await readFile(cracked);
      await s.objects.put(small, jpeg, 'image/jpeg');
      await s.objects.put(big, Buffer.alloc(s.config.FAULTLINE_MAX_IMAGE_BYTES + 1, 1), 'image/jpeg');
      const head = vi.spyOn(s.objects, 'head');
      try {
        expect(Buffer.from(await readInboxImage(s, small))).toEqual(jpeg);
        await expect(readInboxImage(s, big)).rejects.toMatchObject({
          code: 'PAYLOAD_TOO_LARGE',
          details: { size: s.config.FAULTLINE_MAX_IMAGE_BYTES + 1 },
        });
        await expect(readInboxImage(s, `test-only/${trained.id}/none.jpg`)).rejects.toMatchObject({
          code: 'NOT_FOUND',
        });
        expect(head).not.toHaveBeenCalled();
      } finally {
        head.mockRestore();
        await s.objects.deletePrefix(`test-only/${trained.id}/`);
      }
    });

    it('sets aside, with the reason, inbox objects of an unknown project and in the reserved folder api/; a restart queues neither again', async () => {
      const unknown = '00000000-0000-4000-8000-000000000000';
      const jpeg = await readFile(cracked);
      await s.objects.put(`inbox/${unknown}/line/a.jpg`, jpeg, 'image/jpeg');
      await s.objects.put(`inbox/${trained.id}/api/b.jpg`, jpeg, 'image/jpeg');
      for (const [from, to] of [
        [`inbox/${unknown}/line/a.jpg`, `rejected/${unknown}/line/a.jpg`],
        [`inbox/${trained.id}/api/b.jpg`, `rejected/${trained.id}/api/b.jpg`],
      ] as const) {
        await waitFor(`${from} set aside`, async () => ((await s.objects.head(from)) ? undefined : true));
        expect((await s.objects.head(to))?.size).toBe(jpeg.byteLength);
      }
      const meta = await fetch(await s.objects.presignGet(`rejected/${unknown}/line/a.jpg`, 60));
      expect(meta.headers.get('x-amz-meta-faultline-reason')).toContain(`no project ${unknown}`);
      const reserved = await fetch(await s.objects.presignGet(`rejected/${trained.id}/api/b.jpg`, 60));
      expect(reserved.headers.get('x-amz-meta-faultline-reason')).toContain('reserved');
      // the API's batch holds API detections only
      expect((await s.results.batch(trained.id, 'api')).every((r) => r.source.kind === 'api')).toBe(true);
      const recovered: Record<string, unknown>[] = [];
      await recoverUnfinishedWork(s, s.objects.bucket, (line) => recovered.push(line));
      expect(recovered.find((l) => l.msg === 'recovered unfinished work')?.inboxObjects ?? 0).toBe(0);
    });

    it('deleting a project while it trains stops the job: no model, no rows, no objects, no "Model Activated"', async () => {
      const p = await newProject('deleted while training');
      const { job } = await requestTraining(s, p.id);
      await waitFor(
        'the training under way',
        async () => ((await s.jobs.get(job.id))?.progress ? true : undefined),
        60_000,
      );
      expect((await api('DELETE', `/projects/${p.id}?confirm=${encodeURIComponent(p.name)}`)).status).toBe(200);
      await waitFor(
        'the job to stop',
        async () =>
          logs.some((l) => l.msg === 'job stopped: its project was deleted' && l.jobId === job.id) ? true : undefined,
        60_000,
      );
      expect(await leftovers(p.id)).toEqual(nothingLeft);
      const { db, table } = await tableOf(runtime);
      expect(await db.send(new GetCommand({ TableName: table, Key: keys.job(job.id) }))).not.toHaveProperty('Item');
      expect(eventsOf(p.id)).toEqual([]);
      expect((await api('GET', `/projects/${p.id}`)).status).toBe(404);
    }, 120_000);

    it('a deletion that lands between a training writing its model and activating it wins: what the job wrote is swept', async () => {
      const p = await newProject('deleted before activation');
      const { job } = await createJob(s, {
        projectId: p.id,
        type: 'train',
        input: { modelVersion: 1 },
        idempotencyKey: `train:${p.id}:k`,
        enqueue: false,
      });
      const started = (await s.jobs.start(job.id, 'test-worker'))!;
      const project = (await s.projects.get(p.id))!;
      const create = s.models.create;
      // the deletion runs to its end just before the model's row is written: that row and the artifact come after its sweep
      s.models.create = async (m) => {
        await deleteProject(s, p.id, p.name);
        return create.call(s.models, m);
      };
      try {
        await expect(runTraining(s, started, project, () => {})).rejects.toMatchObject({ code: 'PROJECT_NOT_FOUND' });
      } finally {
        s.models.create = create;
      }
      expect(await leftovers(p.id)).toEqual(nothingLeft);
      expect(await s.jobs.findByIdempotencyKey(`train:${p.id}:k`)).toBeUndefined();
      expect(eventsOf(p.id)).toEqual([]);
    }, 120_000);

    it('a deletion during a drop-folder detection wins: no result row, JSON, PNGs, job or idempotency row remain', async () => {
      // a second trained project, deleted while its detection is writing
      const p = await newProject('deleted while detecting');
      const { job: training } = await requestTraining(s, p.id);
      await waitFor(
        'its model',
        async () => ((await s.jobs.get(training.id))?.status === 'SUCCEEDED' ? true : undefined),
        120_000,
      );
      const key = `inbox/${p.id}/line/x.jpg`;
      const project = (await s.projects.get(p.id))!;
      await s.objects.put(key, await readFile(cracked), 'image/jpeg');
      await waitFor('the drop-folder result', async () =>
        (await s.results.batch(p.id, 'line')).length === 1 ? true : undefined,
      );
      const { job } = await createJob(s, {
        projectId: p.id,
        type: 'detect',
        input: { key },
        idempotencyKey: `s3:test/${key}#again`,
        enqueue: false,
      });
      const started = (await s.jobs.start(job.id, 'test-worker'))!;
      const put = s.results.putIfProjectLive;
      // the deletion runs to its end just before the result's row is written: that row comes after its sweep
      s.results.putIfProjectLive = async (record) => {
        await deleteProject(s, p.id, project.name);
        return put.call(s.results, record);
      };
      try {
        await expect(runInboxDetection(s, started, project, inboxObjectOf(started))).rejects.toMatchObject({
          code: 'PROJECT_NOT_FOUND',
        });
      } finally {
        s.results.putIfProjectLive = put;
      }
      expect(await leftovers(p.id)).toEqual(nothingLeft);
      expect(await s.jobs.findByIdempotencyKey(`s3:test/${key}#again`)).toBeUndefined();
      expect(eventsOf(p.id).filter((t) => t === 'Detection Completed')).toHaveLength(1); // the first detection's only
    }, 180_000);

    it('a deletion marked during an API detection wins: PROJECT_NOT_FOUND, no result row or PNGs written', async () => {
      const p = await newProject('marked while detecting');
      const { job: training } = await requestTraining(s, p.id);
      await waitFor(
        'its model',
        async () => ((await s.jobs.get(training.id))?.status === 'SUCCEEDED' ? true : undefined),
        120_000,
      );
      const put = s.results.putIfProjectLive;
      // the deletion's mark lands after the PNGs are stored and before the result's row: the row is refused
      s.results.putIfProjectLive = async (record) => {
        expect(await s.projects.markDeleting(p.id)).toBe(true);
        return put.call(s.results, record);
      };
      try {
        await expect(
          detectImage(s, p.id, await readFile(cracked), 'x.jpg', { visualizations: true }),
        ).rejects.toMatchObject({ code: 'PROJECT_NOT_FOUND' });
      } finally {
        s.results.putIfProjectLive = put;
      }
      // before the deletion finishes: the detection swept what it wrote, and no row was written
      const left = await leftovers(p.id);
      expect(left.objects.filter((k) => k.startsWith('results/'))).toEqual([]);
      expect(left.items.filter((sk) => String(sk).startsWith('RESULT#'))).toEqual([]);
      await recoverUnfinishedWork(s, s.objects.bucket, () => {});
      expect(await leftovers(p.id)).toEqual(nothingLeft);
      expect(eventsOf(p.id).filter((t) => t === 'Detection Completed')).toEqual([]);
    }, 180_000);

    it('POST /detect reads its project once and writes its result in one table request (the check of the project inside it)', async () => {
      const db = (s.results as unknown as { db: DynamoDBDocumentClient }).db;
      const sent: Array<{ command: string; input: Record<string, any> }> = [];
      const get = s.projects.get;
      let projectGets = 0;
      s.projects.get = (id) => (projectGets++, get(id));
      // Every table request of every repository goes through this one client (its middleware stack is resolved once
      // per command class: sdk-client-defaults.ts, so the count wraps send rather than adding a step).
      const send = db.send;
      db.send = ((command: { constructor: { name: string }; input: Record<string, any> }, ...rest: unknown[]) => {
        sent.push({ command: command.constructor.name, input: command.input });
        return (send as (...a: unknown[]) => unknown).call(db, command, ...rest);
      }) as typeof db.send;
      try {
        const body = new FormData();
        body.append('file', new Blob([await readFile(cracked)], { type: 'image/jpeg' }), 'x.jpg');
        body.append('return_visualizations', 'false');
        const r = await fetch(`${runtime.url}/api/v1/projects/${trained.id}/detect`, {
          method: 'POST',
          body,
          headers: { 'x-api-key': runtime.apiKey! },
        });
        expect(r.status).toBe(200);
      } finally {
        db.send = send;
        s.projects.get = get;
      }
      const mine = sent.filter((c) => JSON.stringify(c.input).includes(trained.id));
      const writes = mine.filter((c) => !/^(Get|Query|Scan|BatchGet)/.test(c.command));
      expect(writes.map((c) => c.command)).toEqual(['TransactWriteCommand']);
      expect(writes[0]!.input.TransactItems.map((i: object) => Object.keys(i)[0])).toEqual(['ConditionCheck', 'Put']);
      const projectReads = mine.filter((c) => {
        const key = JSON.stringify(c.input.Key ?? {});
        return c.command === 'GetCommand' && key.includes(`PROJECT#${trained.id}`) && key.includes('"PROJECT"');
      });
      // The use case asks for the project once; the local runtime remembers projects (read-caches.ts), so the table
      // sees that read only when the project was not read lately.
      expect(projectGets).toBe(1);
      expect(projectReads.length).toBeLessThanOrEqual(1);
    });

    it('POST /detect presigns only the links it returns: no URL for a kept image, PNG URLs only when asked for', async () => {
      await s.projects.update(trained.id, { keepFlaggedImages: true });
      const presign = s.objects.presignGet;
      const signed: string[] = [];
      s.objects.presignGet = (key, seconds) => {
        signed.push(key);
        return presign.call(s.objects, key, seconds);
      };
      const detect = async (visualizations: boolean) => {
        signed.length = 0;
        const body = new FormData();
        body.append('file', new Blob([await readFile(cracked)], { type: 'image/jpeg' }), 'x.jpg');
        body.append('return_visualizations', String(visualizations));
        const r = await fetch(`${runtime.url}/api/v1/projects/${trained.id}/detect`, {
          method: 'POST',
          body,
          headers: { 'x-api-key': runtime.apiKey! },
        });
        const answer = (await r.json()) as any;
        expect(r.status).toBe(200);
        expect(answer.is_anomalous).toBe(true);
        return { answer, signed: [...signed] };
      };
      try {
        const plain = await detect(false);
        expect(plain.answer.visualizations).toBeNull();
        expect(plain.signed).toEqual([expect.stringMatching(/^(datasets|reviewed)\//)]); // the nearest normal patch's image
        expect(plain.answer.evidence.nearest_normal.url).toEqual(expect.any(String));
        // the flagged image was kept, but this answer has no link to it: not signed
        expect(await s.objects.get(`results/${trained.id}/api/${plain.answer.result_id}/image`)).toBeDefined();
        const withPngs = await detect(true);
        expect(withPngs.signed.filter((k) => k.endsWith('.png'))).toHaveLength(5);
        expect(withPngs.signed).toHaveLength(6);
        expect(Object.keys(withPngs.answer.visualizations)).toHaveLength(5);
      } finally {
        s.objects.presignGet = presign;
        await s.projects.update(trained.id, { keepFlaggedImages: false });
      }
    });

    it('the API and the drop folder store the same PNGs of one image (one owner of the PNG options)', async () => {
      const jpeg = await readFile(cracked);
      const api = await detectImage(s, trained.id, jpeg, 'same.jpg', { visualizations: true });
      await s.objects.put(`inbox/${trained.id}/same-pngs/x.jpg`, jpeg, 'image/jpeg');
      const [dropped] = await waitFor('the drop-folder result', async () => {
        const batch = await s.results.batch(trained.id, 'same-pngs');
        return batch.length === 1 ? batch : undefined;
      });
      expect(Object.keys(dropped!.visualizationKeys!).sort()).toEqual(Object.keys(api.visualizationKeys!).sort());
      for (const kind of Object.keys(api.visualizationKeys!) as Array<keyof typeof api.visualizationKeys>) {
        const fromApi = Buffer.from((await s.objects.get(api.visualizationKeys![kind]))!);
        const fromDrop = Buffer.from((await s.objects.get(dropped!.visualizationKeys![kind]))!);
        expect(fromDrop.equals(fromApi), kind).toBe(true);
        expect(fromApi.equals(Buffer.from(api.pngs![kind]))).toBe(true); // what the API's routes answer with
      }
    });

    it('a deletion cut short after marking the project is finished at the next start', async () => {
      const p = await newProject('deletion interrupted');
      expect(await s.projects.markDeleting(p.id)).toBe(true); // the process dies here
      expect((await api('GET', `/projects/${p.id}`)).status).toBe(404);
      expect((await api('GET', '/projects?limit=100')).body.items.map((x: { id: string }) => x.id)).not.toContain(p.id);
      await recoverUnfinishedWork(s, s.objects.bucket, () => {});
      expect(await leftovers(p.id)).toEqual(nothingLeft);
      expect(await s.projects.getForDeletion(p.id)).toBeUndefined();
    });
  },
);
