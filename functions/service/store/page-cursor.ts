import { createHmac, timingSafeEqual } from 'node:crypto';
import { ServiceError } from '../errors.ts';

/** A cursor this service did not give out for this listing: made up, altered, or from another listing or project. */
export class InvalidCursorError extends ServiceError {
  constructor() {
    super('INVALID_CURSOR', 'the cursor is not one this API gave out for this listing');
    this.name = 'InvalidCursorError';
  }
}

/**
 * The one owner of page cursors: the table's LastEvaluatedKey as base64url JSON, with an HMAC over it and the
 * listing it belongs to (e.g. `results:{projectId}`). A cursor that is made up, altered, or taken from another
 * listing or project is refused before DynamoDB sees it (400 INVALID_CURSOR, not a 500 from a foreign start key).
 */
export class PageCursors {
  constructor(private readonly secret: Buffer) {}

  encode(listing: string, key: Record<string, unknown> | undefined): string | null {
    if (!key) return null;
    const payload = Buffer.from(JSON.stringify(key)).toString('base64url');
    return `${payload}.${this.mac(listing, payload)}`;
  }

  decode(listing: string, cursor: string | undefined): Record<string, unknown> | undefined {
    if (!cursor) return undefined;
    const [payload, mac, ...rest] = cursor.split('.');
    if (payload && mac && rest.length === 0) {
      const expected = Buffer.from(this.mac(listing, payload));
      const given = Buffer.from(mac);
      if (given.length === expected.length && timingSafeEqual(given, expected)) {
        const key = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
        if (key && typeof key === 'object' && typeof key.pk === 'string' && typeof key.sk === 'string') return key;
      }
    }
    throw new InvalidCursorError();
  }

  private mac(listing: string, payload: string): string {
    return createHmac('sha256', this.secret).update(`${listing}\n${payload}`).digest('base64url');
  }
}
