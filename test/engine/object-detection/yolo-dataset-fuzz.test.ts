import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArchiveError, DatasetError } from '../../../functions/engine/errors.ts';
import { yoloDatasetReport } from '../../../functions/engine/object-detection/dataset/yolo-dataset-report.ts';
import { buildZip, GOOD_DATASET } from './zips.ts';

describe('yoloDatasetReport on damaged ZIPs', () => {
  it('answers a report or a typed archive or dataset error, never anything else', async () => {
    const good = await buildZip(GOOD_DATASET);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.nat({ max: good.length - 1 }), byte: fc.nat({ max: 255 }) }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.option(fc.nat({ max: good.length - 1 })),
        async (flips, cut) => {
          const damaged = Buffer.from(good);
          for (const { at, byte } of flips) damaged[at] = byte;
          const bytes = cut === null ? damaged : damaged.subarray(0, cut);
          try {
            const report = await yoloDatasetReport(bytes);
            expect(typeof report.healthy).toBe('boolean');
          } catch (error) {
            if (!(error instanceof ArchiveError || error instanceof DatasetError)) throw error;
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
