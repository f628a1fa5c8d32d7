import fc from 'fast-check';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { routeHandler } from '../../functions/api/http/route-handler.ts';
import { routes } from '../../functions/api/routes/index.ts';
import { FaultlineError } from '../../functions/engine/errors.ts';
import { decodeForModel, inspectImage } from '../../functions/engine/image/decode-image.ts';
import { loadServiceConfig } from '../../functions/service/config.ts';
import { silentLog } from '../../functions/service/log.ts';
import { noMetrics } from '../../functions/service/ports/metrics.ts';
import type { Services } from '../../functions/service/services.ts';

/**
 * Property tests: whatever a client sends, the answer is a typed error or a success, never a crash. The services are
 * a stand-in whose stores record that they were reached; the properties are about validation, which comes first.
 */
const reached: string[] = [];
const services = {
  config: loadServiceConfig({ FAULTLINE_QUEUE_URL: 'http://127.0.0.1:1/queue', FAULTLINE_AUTH: 'none' }),
  log: silentLog,
  metrics: noMetrics,
  projects: new Proxy({}, { get: (_, name) => async () => reached.push(`projects.${String(name)}`) && undefined }),
} as unknown as Services;

const route = (operationId: string) =>
  routeHandler(
    routes.find((r) => r.operationId === operationId)!,
    () => services,
  );
const event = (body: string | undefined, contentType = 'application/json', pathParameters?: Record<string, string>) =>
  ({
    version: '2.0',
    routeKey: 'X',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'content-type': contentType },
    pathParameters,
    requestContext: { requestId: 'fuzz', http: { method: 'POST', path: '/' } },
    body,
    isBase64Encoded: false,
  }) as never;

describe('request validation under arbitrary input', () => {
  it('answers any JSON body to POST /projects with 201 or a 400 that lists the problems, never 500', async () => {
    const create = route('createProject');
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const out = await create(event(JSON.stringify(value)), {} as never);
        if (out.statusCode === 400) {
          const body = JSON.parse(out.body!);
          expect(body.error.code).toBe('VALIDATION_FAILED');
          expect(body.error.details.issues.length).toBeGreaterThan(0);
        } else {
          expect(out.statusCode).toBe(201); // a valid body reaches the service and makes the project
          expect(reached.at(-1)).toBe('projects.create');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('answers arbitrary text as a JSON body with MALFORMED_JSON or a validation error', async () => {
    const create = route('createProject');
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => {
        const out = await create(event(text), {} as never);
        const code = JSON.parse(out.body!).error?.code;
        expect([201, 400]).toContain(out.statusCode);
        if (out.statusCode === 400) expect(['MALFORMED_JSON', 'VALIDATION_FAILED', 'EMPTY_BODY']).toContain(code);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects any path parameter that is not a project id before touching storage', async () => {
    const get = route('getProject');
    reached.length = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 60 }).filter((s) => !/^[0-9a-f-]{36}$/i.test(s)),
        async (id) => {
          const out = await get(event(undefined, 'application/json', { projectId: id }), {} as never);
          expect(out.statusCode).toBe(400);
        },
      ),
      { numRuns: 200 },
    );
    expect(reached).toEqual([]);
  });
});

describe('the image decoder under arbitrary bytes', () => {
  it('never throws anything but a typed InvalidImageError, for random bytes and mutated real images', async () => {
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 80, b: 10 } } })
      .png()
      .toBuffer();
    const jpeg = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 20, g: 80, b: 200 } } })
      .jpeg()
      .toBuffer();
    const mutated = fc
      .tuple(
        fc.constantFrom(png, jpeg),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.option(fc.nat()),
      )
      .map(([base, edits, cut]) => {
        const bytes = Buffer.from(base);
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        return cut === null ? bytes : bytes.subarray(0, cut % bytes.length);
      });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 512 }), mutated), async (bytes) => {
        try {
          await inspectImage(bytes, { maxPixels: 50_000_000, minSide: 16 });
          await decodeForModel(bytes, { size: 32, resize: 'direct', resizeTo: 32 });
        } catch (error) {
          expect(error).toBeInstanceOf(FaultlineError);
          expect(['EMPTY_IMAGE', 'UNSUPPORTED_IMAGE', 'CORRUPT_IMAGE', 'IMAGE_TOO_LARGE', 'IMAGE_TOO_SMALL']).toContain(
            (error as FaultlineError).code,
          );
        }
      }),
      { numRuns: 400 },
    );
  });
});
