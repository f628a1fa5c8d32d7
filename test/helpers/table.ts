import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../functions/service/adapters/aws-services.ts';
import type { ServiceConfig } from '../../functions/service/config.ts';

/**
 * The table itself, for tests that check what was stored (or left behind) beneath the repositories: the service
 * reaches it only through its ports, so a test builds its own client from the same settings.
 */
export function tableOf(config: ServiceConfig): { db: DynamoDBDocumentClient; table: string; partition(projectId: string): Promise<Record<string, unknown>[]> } {
  const db = documentClient(config);
  const table = config.FAULTLINE_TABLE;
  return {
    db,
    table,
    /** Every item under the project's partition key (the project's own item included). */
    async partition(projectId) {
      const out = await db.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': `PROJECT#${projectId}` } }));
      return out.Items ?? [];
    },
  };
}
