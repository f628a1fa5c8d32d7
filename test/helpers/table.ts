import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../functions/service/adapters/dynamodb-client.ts';
import { standInCredentials } from '../../functions/local/aws/stand-in-credentials.ts';
import type { LocalRuntime } from '../../functions/local/runtime.ts';

/**
 * The table itself, for tests that check what was stored (or left behind) beneath the repositories: the service
 * reaches it only through its ports, so a test builds its own client from the same settings.
 */
export async function tableOf(runtime: Pick<LocalRuntime, 'services' | 'dataDir'>): Promise<{
  db: DynamoDBDocumentClient;
  table: string;
  partition(projectId: string): Promise<Record<string, unknown>[]>;
}> {
  const config = runtime.services.config;
  // signed like the runtime's own clients: the stand-ins refuse anything else
  const db = documentClient(config, await standInCredentials(runtime.dataDir));
  const table = config.FAULTLINE_TABLE;
  return {
    db,
    table,
    /** Every item under the project's partition key (the project's own item included). */
    async partition(projectId) {
      const out = await db.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': `PROJECT#${projectId}` },
        }),
      );
      return out.Items ?? [];
    },
  };
}
