import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { CfnStage, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '../functions/service/adapters/event-publishers.ts';
import { serviceEnvironment } from './data-plane.ts';
import type { Messaging } from './messaging.ts';
import { NodeFunction } from './node-function.ts';
import type { Storage } from './storage.ts';
import { acknowledgeControl } from './control-tower.ts';

/** The events the live feed posts to subscribers (service/live/live-routing.ts says what each receives). */
export const LIVE_EVENT_TYPES = ['Metric Anomaly', 'Detection Completed'];
const STAGE = 'live';

export interface LiveFeedProps {
  /** The service's modules import the engine's native modules only in code these functions never run. */
  layer: lambda.ILayerVersion;
  storage: Storage;
  messaging: Messaging;
  /** The HTTP API's authorizer function: the same sign-in (it answers the WebSocket API's REQUEST shape too). */
  authorizer: lambda.IFunction;
  /** Functions that post to connections besides the feed's own (the point consumer posts scored points). */
  posters: lambda.Function[];
  throttle: { rate: number; burst: number };
}

/**
 * The live feed in AWS: API Gateway's WebSocket API ($connect behind the HTTP API's authorizer, $disconnect, and the
 * client's messages) on one function that keeps connections and subscriptions in the table (functions/live/lambda.ts),
 * and a rule on the event bus that hands Metric Anomaly and Detection Completed events to the fan-out function
 * (functions/live/events-lambda.ts). The point consumer posts newly scored points itself.
 */
export class LiveFeed extends Construct {
  readonly api: WebSocketApi;
  readonly stage: WebSocketStage;
  readonly socketFunction: NodeFunction;
  readonly eventsFunction: NodeFunction;

  constructor(scope: Construct, id: string, props: LiveFeedProps) {
    super(scope, id);
    const { storage, messaging } = props;
    this.api = new WebSocketApi(this, 'Api', {
      apiName: 'faultline-live',
      description: 'Faultline live feed: anomalies, points and detections as they happen',
      routeSelectionExpression: '$request.body.type',
    });
    acknowledgeControl(
      this.api,
      'api_gw_v2_authorization_type_configured_check',
      'A WebSocket API takes an authorizer on $connect only; later messages travel on the connection it admitted, and the handler finds the caller in its connection record.',
    );
    acknowledgeControl(
      this.api,
      'lambda_function_public_access_prohibited_check',
      "API Gateway's invoke permissions name this WebSocket API's execute-api ARN as SourceArn, built with Fn::Join, which the rule cannot read.",
    );
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: STAGE,
      autoDeploy: true,
      throttle: { rateLimit: props.throttle.rate, burstLimit: props.throttle.burst },
    });
    // The work queue only because the service's settings require one: these functions never touch it.
    const environment = serviceEnvironment({ table: storage.table, queue: messaging.queue, bus: messaging.bus });
    this.socketFunction = new NodeFunction(this, 'Socket', {
      entry: 'live/lambda.ts',
      layer: props.layer,
      memorySize: 512,
      timeout: Duration.seconds(15),
      description: 'Faultline live feed: connections, subscriptions and replays of the WebSocket API',
      environment,
      logGroupId: 'SocketLogs',
    });
    this.eventsFunction = new NodeFunction(this, 'Events', {
      entry: 'live/events-lambda.ts',
      layer: props.layer,
      memorySize: 512,
      timeout: Duration.seconds(30),
      description: 'Faultline live feed: posts anomalies and detections to the subscribed connections',
      environment,
      logGroupId: 'EventsLogs',
    });
    for (const fn of [this.socketFunction, this.eventsFunction]) storage.grantTable(fn);

    const integration = new WebSocketLambdaIntegration('Socket', this.socketFunction);
    this.api.addRoute('$connect', {
      integration,
      // Either a header or, from browsers, the URL carries the credential: no identity source API Gateway could
      // require, so every connect reaches the authorizer (as the HTTP API's, uncached).
      authorizer: new WebSocketLambdaAuthorizer('JwtOrApiKey', props.authorizer, { identitySource: [] }),
    });
    for (const key of ['$disconnect', '$default', 'subscribe', 'unsubscribe'])
      Validations.of(this.api.addRoute(key, { integration })).acknowledge({
        id: 'AwsSolutions::AwsSolutions-APIG4',
        reason: `A WebSocket API authorises a connection once, at $connect; ${key} runs on a connection so admitted, and the handler acts as the principal $connect recorded`,
      });

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const cfnStage = this.stage.node.defaultChild as CfnStage;
    cfnStage.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        connectionId: '$context.connectionId',
        eventType: '$context.eventType',
        route: '$context.routeKey',
        status: '$context.status',
        integrationError: '$context.integrationErrorMessage',
      }),
    };

    new events.Rule(this, 'EventRule', {
      description: 'Faultline live feed: anomalies and detections to the WebSocket subscribers',
      eventBus: messaging.bus,
      eventPattern: { source: [EVENT_SOURCE], detailType: LIVE_EVENT_TYPES },
      // A live message is worth little late: a client that missed one asks with `since`.
      targets: [
        new targets.LambdaFunction(this.eventsFunction, { retryAttempts: 2, maxEventAge: Duration.minutes(5) }),
      ],
    });

    for (const fn of [this.socketFunction, this.eventsFunction, ...props.posters]) {
      this.stage.grantManagementApiAccess(fn);
      fn.addEnvironment('FAULTLINE_LIVE_ENDPOINT', this.stage.callbackUrl);
      Validations.of(fn).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${Stack.of(this).getLogicalId(this.api.node.defaultChild as never)}>/${STAGE}/*/@connections/*]`,
        reason: "Posting to the live feed's connections, whose ids come and go: this API's stage only",
      });
    }
  }

  /** wss://... the clients connect to. */
  get url(): string {
    return this.stage.url;
  }
}
