import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COOKIE, startCompatRuntime } from './compat-runtime.ts';

type Json = Record<string, any>;

/**
 * A Lookout for Vision runtime client, as its SDK speaks on the wire (REST-JSON, 2020-11-20): the image as the body,
 * a SigV4 Authorization header (signed with the client's AWS credentials, which Faultline does not read), errors by
 * x-amzn-ErrorType. The project is named by its name.
 */
describe('a Lookout for Vision client', () => {
  let url: string;
  let stop: () => Promise<void>;
  const sigv4 = {
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/us-east-1/lookoutvision/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123',
    'x-amz-date': '20261201T000000Z',
  };
  const detect = async (version: string, image: Buffer, type = 'image/jpeg', project = 'line-1') =>
    fetch(`${url}/2020-11-20/projects/${project}/models/${version}/detect`, {
      method: 'POST',
      headers: { ...sigv4, 'content-type': type },
      body: image,
    });
  const get = async (path: string) => {
    const res = await fetch(`${url}${path}`, { headers: sigv4 });
    return { status: res.status, type: res.headers.get('x-amzn-errortype'), body: (await res.json()) as Json };
  };

  beforeAll(async () => {
    const started = await startCompatRuntime('lookout,flask', { FAULTLINE_WORKERS: '1' });
    url = started.runtime.url;
    stop = started.stop;
    // A model for the project (through the Flask route: one reference image trains it).
    const form = new FormData();
    form.append('image', new Blob([await readFile(join(COOKIE, 'train', 'good', 'normal-1.jpg'))]), 'n.jpg');
    const loaded = await fetch(`${url}/load_reference`, { method: 'POST', body: form });
    if (loaded.status !== 200) throw new Error(await loaded.text());
  }, 90_000);
  afterAll(async () => stop?.());

  it('DetectAnomalies answers DetectAnomalyResult with a coloured mask', async () => {
    const image = await readFile(join(COOKIE, 'test', 'cracked', 'anomaly-1.jpg'));
    const res = await detect('1', image);
    const body = (await res.json()) as Json;
    expect(res.status, JSON.stringify(body)).toBe(200);
    const r = body.DetectAnomalyResult;
    expect(r.Source).toEqual({ Type: 'direct' });
    expect(typeof r.IsAnomalous).toBe('boolean');
    expect(r.Confidence).toBeGreaterThanOrEqual(0.5);
    expect(r.Anomalies[0]).toMatchObject({ Name: 'background', PixelAnomaly: { Color: '#FFFFFF' } });
    const total = r.Anomalies.reduce((n: number, a: Json) => n + a.PixelAnomaly.TotalPercentageArea, 0);
    expect(total).toBeCloseTo(1, 6);
    if (r.Anomalies.length > 1)
      expect(r.Anomalies[1]).toMatchObject({ Name: 'anomaly', PixelAnomaly: { Color: '#FF0000' } });
    const mask = await sharp(Buffer.from(r.AnomalyMask, 'base64')).metadata();
    const source = await sharp(image).metadata();
    expect([mask.format, mask.width, mask.height]).toEqual(['png', source.width, source.height]);
  });

  it('DescribeModel and ListModels describe the model', async () => {
    const one = await get('/2020-11-20/projects/line-1/models/1');
    expect(one.status).toBe(200);
    expect(one.body.ModelDescription).toMatchObject({ ModelVersion: '1', Status: 'HOSTED' });
    expect(typeof one.body.ModelDescription.CreationTimestamp).toBe('number');
    const all = await get('/2020-11-20/projects/line-1/models');
    expect(all.body.Models.map((m: Json) => m.ModelVersion)).toEqual(['1']);
  });

  it('reads its errors by exception name', async () => {
    const missing = await get('/2020-11-20/projects/line-1/models/9');
    expect([missing.status, missing.type, missing.body.__type]).toEqual([
      404,
      'ResourceNotFoundException',
      'ResourceNotFoundException',
    ]);
    expect(missing.body.message).toBeTypeOf('string');
    expect((await get('/2020-11-20/projects/no-such-project/models')).type).toBe('ResourceNotFoundException');
    const wrongType = await detect('1', Buffer.from('GIF89a'), 'image/gif');
    expect([wrongType.status, wrongType.headers.get('x-amzn-errortype')]).toEqual([400, 'ValidationException']);
    const broken = await detect('1', Buffer.from('not a jpeg at all'));
    expect([broken.status, broken.headers.get('x-amzn-errortype')]).toEqual([400, 'ValidationException']);
  });
});
