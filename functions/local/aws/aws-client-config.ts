import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import type { SQSClientConfig } from '@aws-sdk/client-sqs';
import { SDK_CLIENT_DEFAULTS } from '../../service/adapters/sdk-client-defaults.ts';

/** Where the local stand-ins answer and which credentials they take: all an AWS SDK client needs to use them. */
export interface StandInAccess {
  endpoints: { s3: string; dynamodb: string; sqs: string };
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** AWS SDK client settings for the local stand-ins. */
export function awsClientConfig(access: StandInAccess): {
  s3: S3ClientConfig;
  dynamodb: DynamoDBClientConfig;
  sqs: SQSClientConfig;
} {
  const common = { region: access.region, credentials: { ...access.credentials } };
  return {
    s3: {
      ...common,
      ...SDK_CLIENT_DEFAULTS,
      endpoint: access.endpoints.s3,
      // s3rver serves path-style URLs only (no <bucket>.host DNS on one machine).
      forcePathStyle: true,
      // With checksums on, the SDK sends streamed bodies in aws-chunked framing, which s3rver stores verbatim.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    },
    dynamodb: { ...common, endpoint: access.endpoints.dynamodb },
    sqs: { ...common, ...SDK_CLIENT_DEFAULTS, endpoint: access.endpoints.sqs },
  };
}
