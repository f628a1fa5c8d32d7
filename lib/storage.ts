import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { acknowledgeControl } from './control-tower.ts';
import { Construct } from 'constructs';
import type { Folder } from '../functions/service/object-keys.ts';
import { tableDefinition } from '../functions/service/store/table-definition.ts';
import { grantObjectAccess } from './permissions.ts';

const RESULTS: Folder = 'results';

export interface StorageProps {
  /** Days results and visualizations are kept (results/). */
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
      // Versioned, so that a deleted or overwritten log can be recovered for 30 days (CT.S3.PR.11).
      versioned: true,
      lifecycleRules: [{ expiration: Duration.days(90), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy,
      autoDeleteObjects: !props.retain,
    }));
    acknowledgeControl(
      accessLogs,
      's3_bucket_default_encryption_kms_check',
      'S3 server access logs can only be delivered to a bucket with SSE-S3 (AES-256) default encryption, not SSE-KMS.',
    );
    acknowledgeControl(
      accessLogs,
      's3_bucket_logging_enabled_check',
      'This is the bucket access logs go to; logging it into itself would log its own log deliveries without end.',
    );
    acknowledgeControl(
      accessLogs,
      's3_bucket_acl_prohibited_check',
      "CloudFront's standard logs are written with the bucket's ACL (the awslogsdelivery account), so ACLs stay enabled on this bucket only (object ownership BucketOwnerPreferred).",
    );
    acknowledgeControl(
      accessLogs,
      's3_event_notifications_enabled_check',
      'Nothing acts on a new log file; they are read when investigating.',
    );
    acknowledgeControl(
      accessLogs,
      's3_bucket_object_lock_enabled_check',
      'Logs expire after 90 days and the bucket is removed with a development stack; object lock would keep both from happening. Versioning keeps overwritten logs.',
    );
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

    acknowledgeControl(
      this.bucket,
      's3_bucket_default_encryption_kms_check',
      'Images and models are encrypted with SSE-S3 (AES-256). SSE-KMS would add a KMS request per object read and written (a training reads thousands) and a key grant to every presigned URL signer; switching is a deployment choice.',
    );
    acknowledgeControl(
      this.bucket,
      's3_event_notifications_enabled_check',
      "Event notifications are configured (inbox/ and datasets/ to the work queue, lib/messaging.ts) by CDK's notifications custom resource, which the template check cannot see.",
    );
    acknowledgeControl(
      this.bucket,
      's3_bucket_object_lock_enabled_check',
      'Projects, images and results must be deletable (project deletion, result retention, the right to erasure); object lock forbids exactly that. Versioning recovers overwritten models.',
    );

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
