import { describe, expect, it } from 'vitest';
import { startHttpServer } from '../../../functions/local/gateway/http-server.ts';
import { RateLimiter } from '../../../functions/local/gateway/rate-limiter.ts';

describe('the rate limiter', () => {
  it('lets a burst through, then the rate, per client, and says how long to wait', () => {
    let now = 0;
    const limiter = new RateLimiter({ rate: 2, burst: 3 }, () => now);
    expect([1, 2, 3, 4].map(() => limiter.take('a'))).toEqual([0, 0, 0, 1]);
    expect(limiter.take('b')).toBe(0); // another client has its own bucket
    now += 500; // half a second: one token back
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(1);
    now += 60_000; // idle clients are forgotten
    limiter.take('c');
    expect(limiter.clients).toBe(1);
  });

  it('is off at rate 0', () => {
    const limiter = new RateLimiter({ rate: 0, burst: 1 });
    expect(Array.from({ length: 1000 }, () => limiter.take('a')).every((w) => w === 0)).toBe(true);
  });

  it('answers 429 with Retry-After and a JSON error beyond the limit, on the local HTTP server', async () => {
    const server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 1024,
      rateLimit: { rate: 1, burst: 3 },
      routes: [{ method: 'GET', path: '/ping', handler: async () => ({ statusCode: 200, body: 'pong' }) }],
    });
    try {
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await fetch(`${server.url}/ping`));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429]);
      expect(answers[3]!.headers.get('retry-after')).toBe('1');
      expect(((await answers[3]!.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_REQUESTS');
      await new Promise((r) => setTimeout(r, 1100));
      expect((await fetch(`${server.url}/ping`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
