import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { JobRepository } from '../../../functions/service/store/job-repository.ts';
import { PageCursors } from '../../../functions/service/store/page-cursor.ts';
import { ProjectRepository } from '../../../functions/service/store/project-repository.ts';
import { keys } from '../../../functions/service/store/table-definition.ts';

type Item = Record<string, unknown> & { pk: string; sk: string };

/** A table in memory answering the two calls deletion makes: a key-equality Query (table or gsi1) and BatchWrite deletes. */
function memoryTable(items: Item[]): { db: DynamoDBDocumentClient; items: Item[]; batches: number[] } {
  const batches: number[] = [];
  const send = async (command: unknown) => {
    if (command instanceof QueryCommand) {
      const { IndexName, ExpressionAttributeValues } = command.input;
      const field = IndexName === 'gsi1' ? 'gsi1pk' : 'pk';
      return { Items: items.filter((i) => i[field] === ExpressionAttributeValues![':p']) };
    }
    if (command instanceof BatchWriteCommand) {
      const requests = Object.values(command.input.RequestItems!)[0]!;
      batches.push(requests.length);
      for (const r of requests) {
        const { pk, sk } = r.DeleteRequest!.Key as Item;
        items.splice(
          items.findIndex((i) => i.pk === pk && i.sk === sk),
          1,
        );
      }
      return {};
    }
    throw new Error(`unexpected ${(command as object).constructor.name}`);
  };
  return { db: { send } as unknown as DynamoDBDocumentClient, items, batches };
}

describe('store: what project deletion removes', () => {
  const cursors = new PageCursors(Buffer.alloc(32));

  it('ProjectStore.deleteContents removes every record under the project but the project itself, in batches of 25', async () => {
    const under = Array.from({ length: 30 }, (_, i) => ({ ...keys.image('p1', `datasets/p1/${i}.png`) }));
    const table = memoryTable([
      { ...keys.project('p1') },
      ...under,
      { ...keys.model('p1', 1) },
      { ...keys.result('p1', 'r_1_a') },
      { ...keys.project('p2') },
      { ...keys.image('p2', 'x') },
    ]);
    expect(await new ProjectRepository(table.db, 't', cursors).deleteContents('p1')).toBe(32);
    expect(table.items).toEqual([keys.project('p1'), keys.project('p2'), keys.image('p2', 'x')]);
    expect(table.batches).toEqual([25, 7]);
  });

  it('JobStore.deleteAllOf removes the project’s jobs and the idempotency keys they were made under', async () => {
    const job = (id: string, projectId: string, idempotencyKey?: string): Item => ({
      ...keys.job(id),
      gsi1pk: `JOBS#${projectId}`,
      id,
      ...(idempotencyKey ? { idempotencyKey } : {}),
    });
    const table = memoryTable([
      job('j1', 'p1', 'k1'),
      job('j2', 'p1'),
      { ...keys.idempotency('k1'), jobId: 'j1' },
      job('j3', 'p2', 'k3'),
      { ...keys.idempotency('k3'), jobId: 'j3' },
    ]);
    expect(await new JobRepository(table.db, 't', cursors).deleteAllOf('p1')).toBe(3);
    expect(table.items.map((i) => i.pk)).toEqual(['JOB#j3', 'IDEMPOTENCY#k3']);
  });
});
