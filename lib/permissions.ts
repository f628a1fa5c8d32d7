import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';

/**
 * Object access with named actions only (CDK's bucket grants use wildcards such as s3:GetObject* and s3:List*).
 * Objects are read, written and deleted; the bucket is listed (prefix deletes, upload listings).
 */
export function grantObjectAccess(
  grantee: iam.IGrantable,
  bucket: s3.IBucket,
  access: { write: boolean; delete: boolean },
): void {
  const actions = [
    's3:GetObject',
    ...(access.write ? ['s3:PutObject'] : []),
    ...(access.delete ? ['s3:DeleteObject'] : []),
  ];
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions, resources: [bucket.arnForObjects('*')] }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
  );
}
