import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ServiceConfig } from '../config.ts';

/** Explicit credentials (the local stand-ins' own); unset, the AWS SDK's default chain finds them (Lambda, Batch). */
export type AwsCredentials = { accessKeyId: string; secretAccessKey: string };

/**
 * The table's client, as the repositories use it; a file of its own so that the authorizer, which runs on every
 * request, loads the key table without the rest of the service (tests reach the table through it too).
 */
export function documentClient(
  config: Pick<ServiceConfig, 'AWS_REGION' | 'FAULTLINE_DYNAMODB_ENDPOINT'>,
  credentials?: AwsCredentials,
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: config.AWS_REGION,
      endpoint: config.FAULTLINE_DYNAMODB_ENDPOINT,
      ...(credentials ? { credentials } : {}),
    }),
    {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    },
  );
}
