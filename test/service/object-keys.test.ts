import { describe, expect, it } from 'vitest';
import {
  datasetImageName,
  isNotified,
  parseKey,
  safeFileName,
  uniqueDatasetKey,
} from '../../functions/service/object-keys.ts';

const P = '3f0e3d8e-8a43-4b5e-9d0c-000000000000';

describe('object keys', () => {
  it('makes file names safe: no folders, no traversal, no odd characters', () => {
    expect(safeFileName('../../etc/passwd')).toBe('passwd');
    expect(safeFileName('..\\win.jpg')).toBe('win.jpg');
    expect(safeFileName('naïve façade #1.jpg')).toBe('na_ve_fa_ade_1.jpg');
    expect(safeFileName('...')).toBe('image');
  });

  it('lists a stored training image by its own name, the same however it was uploaded', () => {
    const key = uniqueDatasetKey(P, 'normal-7.jpg');
    expect(key).toMatch(new RegExp(`^datasets/${P}/[0-9a-f]{8}-normal-7\\.jpg$`));
    expect(datasetImageName(key)).toBe('normal-7.jpg');
    expect(datasetImageName(`datasets/${P}/line-1/photo.jpg`)).toBe('photo.jpg'); // put there by an S3 client
  });

  it('reads only our own keys, never a traversal', () => {
    expect(parseKey(`inbox/${P}/line 1/a.jpg`)).toEqual({ folder: 'inbox', projectId: P, rest: 'line 1/a.jpg' });
    expect(parseKey(`inbox/${P}/../x.jpg`)).toBeUndefined();
    expect(parseKey('inbox/not-a-project/a.jpg')).toBeUndefined();
    expect(parseKey(`elsewhere/${P}/a.jpg`)).toBeUndefined();
  });

  it('announces what the bucket notifications of AWS announce: created in inbox/ and datasets/, removed in datasets/', () => {
    expect(isNotified('ObjectCreated:Put', `inbox/${P}/a.jpg`)).toBe(true);
    expect(isNotified('ObjectCreated:CompleteMultipartUpload', `datasets/${P}/a.jpg`)).toBe(true);
    expect(isNotified('ObjectRemoved:Delete', `datasets/${P}/a.jpg`)).toBe(true);
    expect(isNotified('ObjectRemoved:Delete', `inbox/${P}/a.jpg`)).toBe(false);
    for (const folder of ['results', 'models', 'rejected'])
      expect(isNotified('ObjectCreated:Put', `${folder}/${P}/a.json`)).toBe(false);
    expect(isNotified('ObjectCreated:Put', 'inbox/not-a-project/a.jpg')).toBe(false);
    // the sensors drop folder, keyed by site; no traversal, no file at the top
    expect(isNotified('ObjectCreated:Put', 'metrics/site-1/2026-12-01.csv')).toBe(true);
    expect(isNotified('ObjectRemoved:Delete', 'metrics/site-1/2026-12-01.csv')).toBe(false);
    expect(isNotified('ObjectCreated:Put', 'metrics/site-1/../x.csv')).toBe(false);
    expect(isNotified('ObjectCreated:Put', 'metrics/a.csv')).toBe(false);
  });
});
