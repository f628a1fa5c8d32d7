import { Aspects, Duration, type IAspect, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, type IConstruct } from 'constructs';

/**
 * AWS Control Tower's proactive controls (cfn-guard rules shipped in @cdklabs/cdk-validator-cfnguard), run at synth by
 * the app (bin/app.ts) and by test/cdk/control-tower.test.ts. Controls the stack meets are met where the resource is
 * made, or here for every resource of a kind (log groups, alarms); a control not met is acknowledged where the
 * construct is, with the reason (`acknowledgeControl`), and listed in the README ("Controls acknowledged").
 */
export const GUARD_PLUGIN = 'cdk-validator-cfnguard';

/** Accepts a control's finding on a construct and everything under it, with the reason. */
export function acknowledgeControl(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `${GUARD_PLUGIN}::${rule}`, reason });
}

/** CT.CLOUDWATCH.PR.2: logs are kept at least a year. */
export const LOG_RETENTION = logs.RetentionDays.ONE_YEAR;

/**
 * What every log group and alarm of the stack gets: log groups encrypted with the stack's customer-managed key and kept
 * a year (CT.CLOUDWATCH.PR.2/3), alarms that notify the alarm topic (CT.CLOUDWATCH.PR.1; subscribe to it, output
 * AlarmTopicArn). An aspect, so that a log group or alarm added later gets the same without anyone remembering to.
 */
export class OperationsBaseline extends Construct {
  readonly key: kms.Key;
  readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: 'Faultline: CloudWatch Logs and the alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch Logs encrypts with the key only for this account's log groups.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:*`,
          },
        },
      }),
    );
    // CloudWatch alarms publish to an encrypted topic only with a customer-managed key they may use.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    // CT.KMS.PR.3: grants on the key only for AWS services acting for a resource (CloudWatch Logs, SNS).
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: {
          BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
        },
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'Alarms', {
      displayName: 'Faultline alarms',
      masterKey: this.key,
      enforceSSL: true,
    });
    const key = this.key;
    const topic = this.alarmTopic;
    const retentionDays = LOG_RETENTION as number;
    Aspects.of(stack).add({
      visit(node: IConstruct) {
        if (node instanceof logs.CfnLogGroup) {
          node.kmsKeyId = key.keyArn;
          if (!node.retentionInDays || node.retentionInDays < retentionDays) node.retentionInDays = retentionDays;
        } else if (node instanceof cloudwatch.CfnAlarm) {
          // The L2 alarm's actions are a lazy list: resolved, an alarm without any gets the topic.
          const actions = stack.resolve(node.alarmActions) as unknown[] | undefined;
          if (!actions?.length) node.alarmActions = [topic.topicArn];
        }
      },
    } satisfies IAspect);
  }
}

/** Findings accepted for the whole stack, each with the reason; those of one construct are acknowledged where it is made. */
export function acknowledgeControlTowerFindings(stack: Stack): void {
  acknowledgeControl(
    stack,
    'lambda_inside_vpc_check',
    "The functions call only AWS service APIs (S3, DynamoDB, SQS, EventBridge, Kinesis) with IAM, and nothing in a VPC; placing them in one would add NAT or a VPC endpoint per service and cold-start time for no network they need. CDK's custom-resource functions are the same.",
  );
}
