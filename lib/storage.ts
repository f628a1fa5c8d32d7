import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { Folder } from '../functions/service/object-keys.ts';
import { tableDefinition } from '../functions/service/store/table-definition.ts';
import { grantObjectAccess } from './permissions.ts';

const RESULTS: Folder = 'results';

export interface StorageProps {
  /** Days results and visualisations are kept (results/). */
  resultsRetentionDays: number;
  /** Keep the bucket and table when the stack is deleted. */
  retain: boolean;
}

/** The bucket (images, models, results) and the table (projects, jobs, model versions, results). */
export class Storage extends Construct {
  readonly bucket: s3.Bucket;
  readonly table: dynamodb.TableV2;
  /** Server access logs of the buckets, and the console's CloudFront logs. */
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const removalPolicy = props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const accessLogs = (this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy,
      autoDeleteObjects: !props.retain,
    }));
    this.bucket = new s3.Bucket(this, 'Data', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // Models are versioned so that an overwritten artifact can be recovered; old versions expire.
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'data/',
      cors: [
        {
          allowedMethods: [s3.HttpMethods.GET, s3.HttpMethods.POST, s3.HttpMethods.PUT],
          allowedOrigins: ['*'],
          allowedHeaders: ['*'],
          exposedHeaders: ['ETag'],
        },
      ],
      lifecycleRules: [
        {
          id: 'results',
          prefix: `${RESULTS}/`,
          expiration: Duration.days(props.resultsRetentionDays),
          noncurrentVersionExpiration: Duration.days(1),
        },
        { id: 'noncurrent-versions', noncurrentVersionExpiration: Duration.days(30) },
        { id: 'incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(2) },
      ],
      removalPolicy,
      autoDeleteObjects: !props.retain,
    });

    const def = tableDefinition('faultline');
    const gsi = def.GlobalSecondaryIndexes![0];
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      globalSecondaryIndexes: [
        {
          indexName: gsi.IndexName!,
          partitionKey: { name: 'gsi1pk', type: dynamodb.AttributeType.STRING },
          sortKey: { name: 'gsi1sk', type: dynamodb.AttributeType.STRING },
        },
      ],
      removalPolicy,
    });
  }

  /** Read the data bucket's objects (and list it), with named actions only; write and delete as asked. */
  grantObjects(grantee: iam.IGrantable, access: { write: boolean; delete: boolean }): void {
    grantObjectAccess(grantee, this.bucket, access);
  }

  /** Read and write the table's items (and query its indexes). */
  grantTable(grantee: iam.IGrantable): void {
    this.table.grantReadWriteData(grantee);
  }

  /** Both, in full: what the API functions and the workers do. */
  grantData(grantee: iam.IGrantable): void {
    this.grantObjects(grantee, { write: true, delete: true });
    this.grantTable(grantee);
  }
}
