import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CONSOLE_API_TYPES, consoleApiTypes } from '../../scripts/generate-console-api.ts';

describe("the web console's API types", () => {
  it('match the OpenAPI document the server builds (else run npm run generate:console-api)', async () => {
    const committed = await readFile(CONSOLE_API_TYPES, 'utf8');
    expect(
      committed === (await consoleApiTypes()),
      'console/src/api/schema.d.ts is stale: run npm run generate:console-api',
    ).toBe(true);
  });
});
