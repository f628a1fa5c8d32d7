/**
 * Requests per client address as a token bucket, as API Gateway's stage throttling does in AWS (rate and burst):
 * a client may send `burst` requests at once, then `rate` a second. Buckets that have refilled are forgotten, so
 * memory stays bounded by the clients active in the last few seconds.
 */
export interface RateLimit {
  /** Requests a second; 0 turns the limit off. */
  rate: number;
  burst: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private lastSweep = 0;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** 0 when the request may go ahead, else the seconds until it may (for Retry-After). */
  take(client: string): number {
    if (this.limit.rate <= 0) return 0;
    const now = this.now();
    this.sweep(now);
    const bucket = this.buckets.get(client) ?? { tokens: this.limit.burst, at: now };
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.limit.rate);
    bucket.at = now;
    this.buckets.set(client, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.limit.rate));
  }

  get clients(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 10_000) return;
    this.lastSweep = now;
    const refill = (this.limit.burst / this.limit.rate) * 1000;
    for (const [client, b] of this.buckets) if (now - b.at > refill) this.buckets.delete(client);
  }
}
