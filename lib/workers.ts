import { join } from 'node:path';
import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { acknowledgeControl } from './control-tower.ts';
import { Construct } from 'constructs';
import { allResources, type DataPlane, serviceEnvironment } from './data-plane.ts';
import { projectRoot } from './inference-layer.ts';
import { TELEMETRY_ENVIRONMENT } from '../functions/service/telemetry/metric-catalog.ts';
import { NodeFunction } from './node-function.ts';

export interface WorkersProps extends DataPlane {
  /** GPU instance types (g5/g6 families by default); CPU types for a cheap development deployment. */
  instanceTypes: string[];
  gpu: boolean;
  spot: boolean;
  maxvCpus: number;
  maxWorkers: number;
  /** NAT gateways for private subnets; 0 puts workers in public subnets (development). */
  natGateways: number;
  resultsRetentionDays: number;
}

/**
 * The workers: an AWS Batch managed EC2 compute environment (minimum 0 vCPUs: nothing runs when idle), a job queue,
 * and a job definition running the worker container (docker/worker.Dockerfile) with one GPU. A scheduled function
 * starts workers when the work queue has messages; workers exit once the queue has been idle.
 */
export class Workers extends Construct {
  readonly jobQueue: batch.JobQueue;
  readonly jobDefinition: batch.EcsJobDefinition;
  readonly computeEnvironment: batch.ManagedEc2EcsComputeEnvironment;
  readonly dispatcher: NodejsFunction;

  constructor(scope: Construct, id: string, props: WorkersProps) {
    super(scope, id);
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: props.natGateways,
      subnetConfiguration:
        props.natGateways > 0
          ? [
              // Only the NAT gateway lives here, on its Elastic IP: no public addresses (CT.EC2.PR.11).
              { name: 'public', subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: false },
              { name: 'workers', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
            ]
          : [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(
            new logs.LogGroup(this, 'FlowLogs', {
              retention: logs.RetentionDays.ONE_MONTH,
              removalPolicy: RemovalPolicy.DESTROY,
            }),
          ),
        },
      },
    });
    if (props.natGateways === 0)
      acknowledgeControl(
        vpc,
        'subnet_auto_assign_public_ip_disabled_check',
        'The development profile has no NAT gateway: its workers run in the public subnets and reach AWS APIs through their public address (inbound closed by the security group). The production profile meets the control.',
      );
    // Workers only call AWS APIs (S3, DynamoDB, SQS, EventBridge): nothing reaches them from outside.
    const securityGroup = new ec2.SecurityGroup(this, 'WorkerSg', {
      vpc,
      allowAllOutbound: true,
      description: 'Faultline workers: outbound only',
    });

    this.computeEnvironment = new batch.ManagedEc2EcsComputeEnvironment(this, 'Compute', {
      vpc,
      vpcSubnets: { subnetType: props.natGateways > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PUBLIC },
      securityGroups: [securityGroup],
      instanceTypes: props.instanceTypes.map((t) => new ec2.InstanceType(t)),
      useOptimalInstanceClasses: false,
      minvCpus: 0,
      maxvCpus: props.maxvCpus,
      spot: props.spot,
      images: props.gpu ? [{ imageType: batch.EcsMachineImageType.ECS_AL2_NVIDIA }] : undefined,
      updateToLatestImageVersion: true,
    });
    this.jobQueue = new batch.JobQueue(this, 'Queue', {
      computeEnvironments: [{ computeEnvironment: this.computeEnvironment, order: 1 }],
    });

    const jobRole = new iam.Role(this, 'JobRole', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    // Delete: a refused drop-folder object is moved to rejected/, and a job whose project was deleted under it sweeps
    // what it wrote.
    props.storage.grantData(jobRole);
    props.messaging.grantConsumeWork(jobRole);
    props.messaging.grantSendWork(jobRole);
    props.messaging.grantConsumeDeadLetters(jobRole);
    props.messaging.grantAnnounce(jobRole);
    // CSV files of the sensors drop folder (metrics/) go onto the point stream.
    props.messaging.grantPutPoints(jobRole);

    this.jobDefinition = new batch.EcsJobDefinition(this, 'Worker', {
      retryAttempts: 2,
      timeout: Duration.hours(6),
      container: new batch.EcsEc2ContainerDefinition(this, 'Container', {
        image: ecs.ContainerImage.fromAsset(projectRoot, { file: 'docker/worker.Dockerfile' }),
        cpu: 4,
        memory: Size.gibibytes(14),
        gpu: props.gpu ? 1 : undefined,
        jobRole,
        logging: ecs.LogDriver.awsLogs({ streamPrefix: 'worker', logRetention: logs.RetentionDays.ONE_MONTH }),
        environment: {
          ...serviceEnvironment(allResources(props), {
            FAULTLINE_EXECUTION_PROVIDERS: props.gpu ? 'cuda,cpu' : 'cpu',
            FAULTLINE_RESULT_RETENTION_DAYS: String(props.resultsRetentionDays),
          }),
          ...TELEMETRY_ENVIRONMENT,
          // functions/worker/main.ts: exit after this long with an empty queue, so Batch scales back to zero.
          FAULTLINE_IDLE_EXIT_SECONDS: '300',
        },
      }),
    });

    const fn = (
      name: string,
      entry: string,
      environment: Record<string, string>,
      description: string,
      layer?: lambda.ILayerVersion,
    ) =>
      new NodeFunction(this, name, {
        entry: join('batch', entry),
        layer,
        memorySize: 256,
        timeout: Duration.seconds(60),
        description,
        environment,
      });

    this.dispatcher = fn(
      'Dispatcher',
      'dispatch-workers.ts',
      {
        ...serviceEnvironment({ queue: props.messaging.queue }),
        FAULTLINE_JOB_QUEUE: this.jobQueue.jobQueueArn,
        FAULTLINE_JOB_DEFINITION: this.jobDefinition.jobDefinitionArn,
        FAULTLINE_MAX_WORKERS: String(props.maxWorkers),
      },
      'Starts Batch workers when the work queue has messages',
    );
    this.dispatcher.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sqs:GetQueueAttributes'], resources: [props.messaging.queue.queueArn] }),
    );
    this.dispatcher.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['batch:SubmitJob'],
        resources: [this.jobQueue.jobQueueArn, `${this.jobDefinition.jobDefinitionArn.replace(/:\d+$/, '')}*`],
      }),
    );
    // ListJobs does not support resource-level permissions.
    this.dispatcher.addToRolePolicy(new iam.PolicyStatement({ actions: ['batch:ListJobs'], resources: ['*'] }));
    new events.Rule(this, 'DispatchSchedule', {
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.dispatcher)],
    });

    const sweeper = fn(
      'WorkerStopped',
      'on-worker-stopped.ts',
      serviceEnvironment(allResources(props)),
      'Marks jobs FAILED when their messages reach the dead-letter queue after a worker stopped',
      props.layer,
    );
    props.storage.grantTable(sweeper);
    props.messaging.grantConsumeDeadLetters(sweeper);
    props.messaging.grantAnnounce(sweeper);
    new events.Rule(this, 'WorkerStoppedRule', {
      eventPattern: {
        source: ['aws.batch'],
        detailType: ['Batch Job State Change'],
        detail: { jobQueue: [this.jobQueue.jobQueueArn], status: ['FAILED', 'SUCCEEDED'] },
      },
      targets: [new targets.LambdaFunction(sweeper)],
    });
  }
}
