import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../functions/api/routes/index.ts';
import { projectRoot } from '../../functions/engine/paths.ts';
import { FaultlineStack, settingsFromContext } from '../../lib/faultline-stack.ts';
import { acknowledgeNagFindings } from '../../lib/nag-suppressions.ts';
import { buildConsole, CONSOLE_DIST } from '../../lib/console-build.ts';
import { buildInferenceLayer } from '../../layers/build-inference-layer.ts';

const context = JSON.parse(readFileSync(join(projectRoot(), 'cdk.json'), 'utf8')).context as Record<string, unknown>;

function synth(overrides: Record<string, unknown> = {}) {
  const app = new App({ context: { ...context, ...overrides } });
  const stack = new FaultlineStack(
    app,
    'Faultline',
    settingsFromContext((k) => app.node.tryGetContext(k)),
  );
  acknowledgeNagFindings(stack);
  return { app, stack, template: Template.fromStack(stack) };
}

/** Acknowledged rule ids on a construct and its ancestors. */
function acknowledged(construct: IConstruct): Set<string> {
  const ids = new Set<string>();
  for (let c: IConstruct | undefined = construct; c; c = c.node.scope) {
    for (const entry of c.node.metadata) {
      if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        for (const k of Object.keys(entry.data as object)) ids.add(k.replace(/^AwsSolutions::/, ''));
    }
  }
  return ids;
}

/** The synthesised template of the production profile, checked property by property. */
describe('the CDK app', () => {
  let stack: FaultlineStack;
  let template: Template;
  beforeAll(async () => {
    // The console's built files are deployed with the stack (bin/app.ts builds them; so does npm test).
    if (!existsSync(join(CONSOLE_DIST, 'index.html'))) await buildConsole();
    ({ stack, template } = synth());
  });

  it('routes every operation of the OpenAPI document, behind the JWT-or-API-key authorizer except /health and /openapi.json', () => {
    const httpApiId = stack.getLogicalId(stack.api.httpApi.node.defaultChild as never);
    const cfnRoutes = Object.fromEntries(
      Object.entries(template.findResources('AWS::ApiGatewayV2::Route')).filter(
        ([, r]) => r.Properties.ApiId.Ref === httpApiId,
      ),
    );
    const keys = Object.values(cfnRoutes).map((r) => r.Properties.RouteKey as string);
    expect(keys.sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
    // Every route names its authorization (CT.APIGATEWAY.PR.5); the authorizer admits anyone on the public ones.
    for (const r of Object.values(cfnRoutes))
      expect(r.Properties.AuthorizationType, r.Properties.RouteKey).toBe('CUSTOM');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ FAULTLINE_PUBLIC_ROUTES: 'GET /health,GET /openapi.json' }),
      },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      EnableSimpleResponses: true,
      AuthorizerPayloadFormatVersion: '2.0',
      AuthorizerResultTtlInSeconds: 0,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          FAULTLINE_JWT_ISSUER: Match.anyValue(),
          FAULTLINE_JWT_AUDIENCE: Match.anyValue(),
          FAULTLINE_ADMIN_GROUP: 'faultline-admins',
        }),
      },
    });
    // administrators are the members of this group; the browser may send an API key
    template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: 'faultline-admins' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({ AllowHeaders: Match.arrayWith(['x-api-key']) }),
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });

  it("signs people in to the console with the user pool's hosted UI: code flow, no secret, the console's addresses", () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: Match.anyValue() });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: Match.arrayWith(['openid']),
      SupportedIdentityProviders: ['COGNITO'],
      CallbackURLs: [Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['/auth/callback'])] })],
    });
  });

  it('encrypts every log group with its key and keeps it a year; every alarm notifies the alarm topic', () => {
    for (const [id, g] of Object.entries(template.findResources('AWS::Logs::LogGroup'))) {
      expect(g.Properties.KmsKeyId, id).toBeDefined();
      expect(g.Properties.RetentionInDays, id).toBeGreaterThanOrEqual(365);
    }
    for (const [id, a] of Object.entries(template.findResources('AWS::CloudWatch::Alarm')))
      expect(a.Properties.AlarmActions, id).toHaveLength(1);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('runs detection on its own function with more memory, both with the inference layer', () => {
    const fns = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: {
          Handler: 'index.handler',
          Layers: Match.anyValue(),
          Description: Match.stringLikeRegexp('^Faultline API'),
        },
      }),
    );
    expect(fns).toHaveLength(2);
    const byMemory = fns.map((f) => f.Properties.MemorySize).sort((a, b) => a - b);
    expect(byMemory).toEqual(expect.arrayContaining([1024, 3008]));
    for (const f of fns) expect(f.Properties.Runtime).toBe('nodejs22.x');
    // one inference layer for both (the others are CDK's AWS CLI layers of the console's deployment)
    expect(new Set(fns.map((f) => JSON.stringify(f.Properties.Layers)))).toEqual(
      new Set([
        JSON.stringify([
          {
            Ref: stack.getLogicalId(
              stack.node.findChild('Inference').node.findChild('Layer').node.defaultChild as never,
            ),
          },
        ]),
      ]),
    );
  });

  it('keeps data private and encrypted: bucket and table', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Prefix: 'results/', ExpirationInDays: 90 })]),
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'gsi1' })],
    });
  });

  it('sends inbox/ and datasets/ notifications to a queue with a dead-letter queue, alarmed', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 3 },
      VisibilityTimeout: 900,
    });
    const notifications = template.findResources('Custom::S3BucketNotifications');
    const config = Object.values(notifications)[0].Properties.NotificationConfiguration.QueueConfigurations;
    const prefixes = config.map((c: any) => c.Filter.Key.FilterRules[0].Value).sort();
    expect(prefixes).toEqual(['datasets/', 'datasets/', 'inbox/', 'metrics/']);
    // dead letters counted visible and in flight (the workers' sweep holds them while it marks their jobs FAILED)
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'visible + inFlight' }),
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'ApproximateNumberOfMessagesNotVisible' }),
          }),
        }),
      ]),
    });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('delivers webhooks from a queue of their own through a function, retried, with an alarmed dead-letter queue', () => {
    const webhookQueue = stack.getLogicalId(stack.messaging.webhookQueue.node.defaultChild as never);
    const webhookDeadLetters = stack.getLogicalId(stack.messaging.webhookDeadLetterQueue.node.defaultChild as never);
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [webhookDeadLetters, 'Arn'] }, maxReceiveCount: 5 },
      VisibilityTimeout: 180,
    });
    const [fnId, fn] = Object.entries(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('^Faultline webhooks') },
      }),
    )[0]!;
    expect(fn.Properties).toMatchObject({ Timeout: 30, Runtime: 'nodejs22.x' });
    expect(fn.Properties.Environment.Variables.FAULTLINE_WEBHOOK_QUEUE_URL).toEqual({ Ref: webhookQueue });
    // not in the VPC: subscribers are on the internet, the private-address rule keeps it out of private networks
    expect(fn.Properties.VpcConfig).toBeUndefined();
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId },
      EventSourceArn: { 'Fn::GetAtt': [webhookQueue, 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [webhookDeadLetters, 'QueueName'] } }],
    });
    // the API functions and the workers queue webhooks; none posts them
    const apiFns = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('^Faultline API:') },
      }),
    );
    for (const f of apiFns.filter((f) => f.Properties.Environment?.Variables?.FAULTLINE_QUEUE_URL))
      expect(f.Properties.Environment.Variables.FAULTLINE_WEBHOOK_QUEUE_URL).toEqual({ Ref: webhookQueue });
    template.hasResourceProperties('AWS::Batch::JobDefinition', {
      ContainerProperties: Match.objectLike({
        Environment: Match.arrayWith([{ Name: 'FAULTLINE_WEBHOOK_QUEUE_URL', Value: { Ref: webhookQueue } }]),
      }),
    });
  });

  it('streams sensor points through an on-demand Kinesis stream to a consumer that batches, bisects and reports failures, alarmed', () => {
    const streamId = stack.getLogicalId(stack.messaging.pointStream.node.defaultChild as never);
    const failuresId = stack.getLogicalId(stack.messaging.pointFailures.node.defaultChild as never);
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
    });
    const [fnId, fn] = Object.entries(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('^Faultline sensors: scores the point stream') },
      }),
    )[0]!;
    expect(fn.Properties.Environment.Variables.FAULTLINE_POINT_STREAM).toEqual({ Ref: streamId });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId },
      EventSourceArn: { 'Fn::GetAtt': [streamId, 'Arn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 500,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [failuresId, 'Arn'] } } },
    });
    // the API functions put points (and say where); only the consumer reads them
    const apiFns = Object.entries(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('^Faultline API: (projects|synchronous)') },
      }),
    );
    expect(apiFns).toHaveLength(2);
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const actionsOf = (roleRef: unknown) =>
      policies
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(JSON.stringify(roleRef)))
        .flatMap((p) => p.Properties.PolicyDocument.Statement)
        .filter((st) => JSON.stringify(st.Resource).includes(streamId))
        .flatMap((st) => [st.Action].flat() as string[]);
    for (const [, f] of apiFns) {
      expect(f.Properties.Environment.Variables.FAULTLINE_POINT_STREAM).toEqual({ Ref: streamId });
      const actions = actionsOf({ Ref: f.Properties.Role['Fn::GetAtt'][0] });
      expect(actions).toContain('kinesis:PutRecords');
      expect(actions).not.toContain('kinesis:GetRecords');
    }
    expect(actionsOf({ Ref: fn.Properties.Role['Fn::GetAtt'][0] })).toContain('kinesis:GetRecords');
    // the archive job: an hourly schedule runs the function that moves older points to S3
    const [archiveId, archive] = Object.entries(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('^Faultline sensors: moves points older') },
      }),
    )[0]!;
    expect(archive.Properties.Environment.Variables.FAULTLINE_BUCKET).toBeDefined();
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [archiveId, 'Arn'] } })],
    });
    // alarms: the consumer falling behind, its errors, batches given up on
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'IteratorAge',
      Statistic: 'Maximum',
      Threshold: 300000,
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Threshold: 1,
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [failuresId, 'QueueName'] } }],
    });
  });

  it("serves the live feed on a WebSocket API: $connect behind the HTTP API's authorizer, bus events to the fan-out, posts allowed, alarmed", () => {
    const wsApiId = stack.getLogicalId(stack.liveFeed.api.node.defaultChild as never);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.type',
    });
    const wsRoutes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).filter(
      (r) => r.Properties.ApiId.Ref === wsApiId,
    );
    expect(wsRoutes.map((r) => r.Properties.RouteKey).sort()).toEqual(
      ['$connect', '$default', '$disconnect', 'subscribe', 'unsubscribe'].sort(),
    );
    for (const r of wsRoutes)
      expect(r.Properties.AuthorizationType, r.Properties.RouteKey).toBe(
        r.Properties.RouteKey === '$connect' ? 'CUSTOM' : 'NONE',
      );
    // the same authorizer function as the HTTP API's
    const authorizerFn = stack.getLogicalId(stack.api.authorizerFunction.node.defaultChild as never);
    const wsAuthorizer = Object.values(template.findResources('AWS::ApiGatewayV2::Authorizer')).find(
      (a) => a.Properties.ApiId.Ref === wsApiId,
    )!;
    expect(wsAuthorizer.Properties).toMatchObject({ AuthorizerType: 'REQUEST' });
    expect(JSON.stringify(wsAuthorizer.Properties.AuthorizerUri)).toContain(authorizerFn);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: wsApiId },
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: Match.anyValue() }),
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['faultline'], 'detail-type': ['Metric Anomaly', 'Detection Completed'] },
    });
    // the socket, the fan-out and the point consumer may post to connections, and are told where
    const poster = (fn: { node: { defaultChild: unknown } }) => stack.getLogicalId(fn.node.defaultChild as never);
    for (const fn of [stack.liveFeed.socketFunction, stack.liveFeed.eventsFunction, stack.pointConsumer.function]) {
      const props = template.findResources('AWS::Lambda::Function')[poster(fn)].Properties;
      expect(props.Environment.Variables.FAULTLINE_LIVE_ENDPOINT).toBeDefined();
      const role = props.Role['Fn::GetAtt'][0];
      const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
        p.Properties.Roles.some((r: { Ref: string }) => r.Ref === role),
      );
      expect(JSON.stringify(policies)).toContain('execute-api:ManageConnections');
    }
    // errors of the live functions are alarmed
    const alarmed = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => JSON.stringify(a));
    for (const fn of [stack.liveFeed.socketFunction, stack.liveFeed.eventsFunction])
      expect(alarmed.some((a) => a.includes(poster(fn)) && a.includes('Errors'))).toBe(true);
  });

  it('runs every function with Powertools settings and X-Ray, and watches its metrics (route p95, anomaly rate, failed jobs)', () => {
    for (const [id, f] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
      // Ours (lib/node-function.ts), not the CDK's own custom resources
      if (!f.Properties.Environment?.Variables?.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED) continue;
      expect(f.Properties.TracingConfig, id).toEqual({ Mode: 'Active' });
      expect(f.Properties.Environment.Variables, id).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'faultline',
        POWERTOOLS_METRICS_NAMESPACE: 'Faultline',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
    }
    template.hasResourceProperties('AWS::Batch::JobDefinition', {
      ContainerProperties: Match.objectLike({
        Environment: Match.arrayWith([{ Name: 'POWERTOOLS_SERVICE_NAME', Value: 'faultline' }]),
      }),
    });
    const failed = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a: any) =>
      JSON.stringify(a.Properties.Metrics ?? []).includes('JobsFailed'),
    ) as any;
    expect(failed.Properties.Threshold).toBe(1);
    const types = failed.Properties.Metrics.flatMap((m: any) =>
      (m.MetricStat?.Metric.Dimensions ?? []).filter((d: any) => d.Name === 'JobType').map((d: any) => d.Value),
    );
    expect(types.sort()).toEqual(['detect', 'recalibrate', 'train', 'update-bank']);
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]);
    expect(body).toMatch(/SEARCH\('\{Faultline,service,Route\} MetricName=\\+"RequestLatency\\+"', 'p95', 300\)/);
    expect(body).toMatch(/SEARCH\('\{Faultline,service,ProjectId\} MetricName=\\+"Anomalous\\+"', 'Average', 300\)/);
    expect(body).toContain("${PROP('Dim.Route')}");
  });

  it('runs GPU workers on Batch that cost nothing when idle', () => {
    template.hasResourceProperties('AWS::Batch::ComputeEnvironment', {
      Type: 'managed',
      ComputeResources: Match.objectLike({
        MinvCpus: 0,
        InstanceTypes: ['g5.xlarge', 'g6.xlarge'],
        Ec2Configuration: [{ ImageType: 'ECS_AL2_NVIDIA' }],
      }),
    });
    template.hasResourceProperties('AWS::Batch::JobDefinition', {
      ContainerProperties: Match.objectLike({ ResourceRequirements: Match.arrayWith([{ Type: 'GPU', Value: '1' }]) }),
      RetryStrategy: { Attempts: 2 },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ source: ['aws.batch'], 'detail-type': ['Batch Job State Change'] }),
    });
  });

  it('grants data access with named actions only', () => {
    const dataBucket = stack.getLogicalId(stack.storage.bucket.node.defaultChild as never);
    for (const [id, policy] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
      // CDK's BucketDeployment copies the console's files with its own wildcard grants, never on the data bucket
      if (id.startsWith('CustomCDKBucketDeployment')) {
        expect(JSON.stringify(policy)).not.toContain(dataBucket);
        continue;
      }
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        const actions: string[] = [statement.Action].flat();
        for (const a of actions)
          if (/^(s3|dynamodb|sqs):/.test(a)) expect(a, JSON.stringify(statement)).not.toMatch(/\*/);
      }
    }
  });

  it('passes cdk-nag AwsSolutions: every finding is acknowledged with a reason', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    const unexplained = report.violations.flatMap((v) =>
      v.violatingResources
        .filter(
          (r) =>
            !acknowledged(stack.node.findAll().find((c) => c.node.path === r.constructPath) ?? stack).has(v.ruleName),
        )
        .map((r) => `${v.ruleName} at ${r.constructPath}`),
    );
    expect(unexplained).toEqual([]);
  });

  it('serves the web console from a private bucket through CloudFront, with security headers, its routes and the API address', () => {
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        CustomErrorResponses: [
          { ErrorCode: 403, ResponseCode: 200, ResponsePagePath: '/index.html', ErrorCachingMinTTL: 0 },
          { ErrorCode: 404, ResponseCode: 200, ResponsePagePath: '/index.html', ErrorCachingMinTTL: 0 },
        ],
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: 'redirect-to-https',
          ResponseHeadersPolicyId: Match.anyValue(),
        }),
        Origins: [
          Match.objectLike({ OriginAccessControlId: Match.anyValue(), S3OriginConfig: { OriginAccessIdentity: '' } }),
        ],
        Logging: Match.objectLike({ Prefix: 'console-cdn/' }),
      }),
    });
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always' }),
    });
    const policy = Object.values(template.findResources('AWS::CloudFront::ResponseHeadersPolicy'))[0].Properties
      .ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    expect(policy).toMatchObject({
      FrameOptions: { FrameOption: 'DENY' },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer' },
      ContentTypeOptions: { Override: true },
      StrictTransportSecurity: { AccessControlMaxAgeSec: 31536000 },
    });
    const csp = JSON.stringify(policy.ContentSecurityPolicy.ContentSecurityPolicy);
    for (const directive of [
      "script-src 'self'",
      "frame-ancestors 'none'",
      "img-src 'self' data: blob: https://",
      '.execute-api.',
    ])
      expect(csp).toContain(directive);
    // the console bucket is private, reachable by CloudFront alone
    const consoleBucket = stack.getLogicalId(stack.webConsole.bucket.node.defaultChild as never);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: consoleBucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 's3:GetObject' }),
        ]),
      },
    });
    // config.json is written at deploy time with the API's address; the page is never cached, the hashed assets for a year
    const deployments = Object.values(template.findResources('Custom::CDKBucketDeployment')).map((d) => d.Properties);
    const pages = deployments.find((d) => d.SourceMarkers)!;
    // ... and people's sign-in: the user pool (issuer), the Web client, the hosted UI domain (sign-out).
    const id = (c: IConstruct) => stack.getLogicalId(c.node.defaultChild as never);
    expect(pages.SourceMarkers[1]).toEqual({
      '<<marker:0xbaba:0>>': { 'Fn::GetAtt': [id(stack.api.httpApi), 'ApiEndpoint'] },
      '<<marker:0xbaba:1>>': { Ref: 'AWS::Region' },
      '<<marker:0xbaba:2>>': { Ref: id(stack.api.userPool!) },
      '<<marker:0xbaba:3>>': { Ref: id(stack.api.userPool!.node.findChild('Web')) },
      '<<marker:0xbaba:4>>': { Ref: id(stack.api.userPool!.node.findChild('SignIn')) },
      '<<marker:0xbaba:5>>': { Ref: 'AWS::Region' },
    });
    expect(pages.SystemMetadata).toEqual({ 'cache-control': 'no-cache' });
    expect(deployments.find((d) => d.DestinationBucketKeyPrefix === 'assets/')!.SystemMetadata).toEqual({
      'cache-control': 'public, max-age=31536000, immutable',
    });
    template.hasOutput('ConsoleUrl', Match.anyValue());
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({ AllowHeaders: Match.arrayWith(['x-api-key']) }),
    });
  });

  it('opens compatibility groups without a key only when told: listed networks and project in the authorizer, own throttling', () => {
    const closed = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: Match.objectLike({ FAULTLINE_OPEN_ROUTE_GROUPS: Match.anyValue() }) } },
    });
    expect(Object.keys(closed)).toHaveLength(0);
    const project = '6f1c1e52-8d0f-4d0e-9a55-0c8b5c3f2a11';
    const open = synth({
      'faultline:defaultProject': project,
      'faultline:openRoutes': 'flarenet,lookout',
      'faultline:openNetworks': '10.20.0.0/16',
      'faultline:openRateLimit': '3',
    }).template;
    const openKeys = routes
      .filter((r) => r.compatGroup === 'flarenet' || r.compatGroup === 'lookout')
      .map((r) => `${r.method} ${r.path}`);
    expect(openKeys.length).toBeGreaterThan(3);
    open.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          FAULTLINE_OPEN_ROUTES: 'flarenet,lookout',
          FAULTLINE_OPEN_NETWORKS: '10.20.0.0/16',
          FAULTLINE_DEFAULT_PROJECT: project,
          FAULTLINE_OPEN_ROUTE_GROUPS: Match.serializedJson(
            Object.fromEntries(
              routes
                .filter((r) => r.compatGroup === 'flarenet' || r.compatGroup === 'lookout')
                .map((r) => [`${r.method} ${r.path}`, r.compatGroup]),
            ),
          ),
        }),
      },
    });
    const stage = Object.values(open.findResources('AWS::ApiGatewayV2::Stage'))[0]!.Properties;
    expect(Object.keys(stage.RouteSettings).sort()).toEqual([...openKeys].sort());
    for (const key of openKeys) expect(stage.RouteSettings[key]).toMatchObject({ ThrottlingRateLimit: 3 });
    // still behind the authorizer: it is where the source network is checked
    for (const r of Object.values(open.findResources('AWS::ApiGatewayV2::Route')))
      if (openKeys.includes(r.Properties.RouteKey)) expect(r.Properties.AuthorizationType).toBe('CUSTOM');
    expect(() => synth({ 'faultline:openRoutes': 'flarenet' })).toThrow(/FAULTLINE_OPEN_NETWORKS/);
  });

  it('has a cheaper development profile: CPU workers, no NAT gateway', () => {
    const dev = synth({ 'faultline:profile': 'development' }).template;
    dev.resourceCountIs('AWS::EC2::NatGateway', 0);
    dev.hasResourceProperties('AWS::Batch::ComputeEnvironment', {
      ComputeResources: Match.objectLike({ MinvCpus: 0, InstanceTypes: ['c6i.xlarge', 'c7i.xlarge'] }),
    });
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
  });
});

describe('the inference layer and the worker image', () => {
  beforeAll(() => {
    if (!existsSync(join(projectRoot(), 'layers', 'inference'))) buildInferenceLayer();
  });

  it('holds the linux x86_64 binaries of onnxruntime-node and sharp, and no other platform', () => {
    const modules = join(projectRoot(), 'layers', 'inference', 'nodejs', 'node_modules');
    expect(
      existsSync(join(modules, 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64', 'onnxruntime_binding.node')),
    ).toBe(true);
    expect(readdirSync(join(modules, 'onnxruntime-node', 'bin', 'napi-v6'))).toEqual(['linux']);
    expect(readdirSync(join(modules, 'onnxruntime-node', 'bin', 'napi-v6', 'linux'))).toEqual(['x64']);
    expect(readdirSync(join(modules, '@img', 'sharp-linux-x64', 'lib')).some((f) => f.endsWith('.node'))).toBe(true);
    expect(
      readdirSync(join(modules, '@img', 'sharp-libvips-linux-x64', 'lib')).some((f) => f.startsWith('libvips')),
    ).toBe(true);
  });

  it('describes the worker container exactly: pinned CUDA base, CUDA onnxruntime, non-root, the worker entry point', () => {
    const dockerfile = readFileSync(join(projectRoot(), 'docker', 'worker.Dockerfile'), 'utf8');
    const from = dockerfile.match(/^FROM (\S+)/m)![1];
    expect(from).toMatch(/^nvidia\/cuda:\d+\.\d+\.\d+-cudnn-runtime-ubuntu\d+\.\d+$/);
    expect(dockerfile).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install');
    expect(dockerfile).toMatch(/^USER (?!root)\S+$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \[.*"functions\/worker\/main\.ts"\]$/m);
    expect(dockerfile).not.toMatch(/:latest\b/);
    // hadolint is not among this machine's packages: the rules of it that apply here, checked directly
    expect(dockerfile).toMatch(/^SHELL \["\/bin\/bash", "-o", "pipefail", "-c"\]$/m); // DL4006: pipes fail
    expect(dockerfile).toContain('apt-get install -y --no-install-recommends'); // DL3015
    expect(dockerfile).toContain('rm -rf /var/lib/apt/lists/*'); // DL3009
    expect(dockerfile).not.toMatch(/^RUN cd /m); // DL3003: WORKDIR, not cd
    expect(dockerfile).toMatch(/^WORKDIR \/\S+$/m);
    const ignored = readFileSync(join(projectRoot(), '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.faultline', 'layers/inference']));
  });
});
