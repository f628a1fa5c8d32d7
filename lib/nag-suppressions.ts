import { type Stack, Validations } from 'aws-cdk-lib';

/**
 * cdk-nag AwsSolutions findings accepted on purpose, each with the reason. Findings specific to one construct are
 * acknowledged where that construct is made (the public routes in api.ts).
 */
export function acknowledgeNagFindings(stack: Stack): void {
  const ack = (id: string, reason: string) => Validations.of(stack).acknowledge({ id: `AwsSolutions::${id}`, reason });
  const managed = (name: string) =>
    `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${name}]`;
  ack(
    managed('AWSLambdaBasicExecutionRole'),
    'The Lambda basic execution policy only lets functions write their own logs.',
  );
  ack(
    managed('AmazonEC2ContainerServiceforEC2Role'),
    'The standard instance role of ECS container instances, which the Batch compute environment needs.',
  );
  ack(
    'AwsSolutions-IAM5[Resource::*]',
    'Actions that take no resource: X-Ray tracing, ECR authorization tokens, batch:ListJobs (no resource-level permissions), and CloudWatch Logs streams CDK scopes for the Batch log driver.',
  );
  ack(
    `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(stack.node.findChild('Storage').node.findChild('Table').node.defaultChild as never)}.Arn>/index/*]`,
    "Queries on the table's own indexes.",
  );
  ack(
    `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(stack.node.findChild('Storage').node.findChild('Data').node.defaultChild as never)}.Arn>/*]`,
    'Objects of the one data bucket; actions are named (GetObject, PutObject, DeleteObject), no action wildcards.',
  );
  ack(
    `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(stack.node.findChild('Workers').node.findChild('Worker').node.defaultChild as never)}>*]`,
    'Every revision of the worker job definition: a new deployment makes a new revision.',
  );
  ack(
    'AwsSolutions-SMG4',
    'The page-cursor HMAC key only keeps cursors from being forged; rotating it would just end the pages in flight, so it is not rotated on a schedule.',
  );
  ack(
    'AwsSolutions-L1',
    'Node.js 22 is the newest runtime the project builds and tests on; Lambda supports it until 2027-04.',
  );
  ack(
    'AwsSolutions-COG2',
    'MFA is optional (users can enable it); operators can require it on the pool after deployment.',
  );
  ack(
    'AwsSolutions-COG3',
    'Cognito threat protection needs the Plus feature plan, which costs per user; a deployment choice, off by default.',
  );
  ack(
    'AwsSolutions-COG8',
    'The Plus feature plan costs per user; the Essentials plan covers the console and API sign-in.',
  );
}
