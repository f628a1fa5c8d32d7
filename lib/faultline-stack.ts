import { type OpenAccess, openAccessFrom } from '../functions/auth/open-access.ts';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { routes } from '../functions/api/routes/index.ts';
import { Api } from './api.ts';
import { InferenceLayer } from './inference-layer.ts';
import { LiveFeed } from './live-feed.ts';
import { Messaging } from './messaging.ts';
import { acknowledgeControlTowerFindings, OperationsBaseline } from './control-tower.ts';
import { Monitoring } from './monitoring.ts';
import { PointConsumer } from './point-consumer.ts';
import { Storage } from './storage.ts';
import { WebConsole } from './web-console.ts';
import { WebhookDelivery } from './webhook-delivery.ts';
import { Workers } from './workers.ts';

/** Deployment choices, from CDK context (cdk.json, or -c key=value); see the README's deployment section. */
export interface FaultlineSettings {
  /** 'production' (GPU workers, private subnets with NAT, data kept on deletion) or 'development' (CPU workers, no NAT). */
  profile: 'production' | 'development';
  workerInstanceTypes: string[];
  spot: boolean;
  maxvCpus: number;
  maxWorkers: number;
  corsOrigins: string[];
  resultsRetentionDays: number;
  defaultProject?: string;
  defaultClassifierProject?: string;
  jwtIssuer?: string;
  jwtAudience?: string[];
  throttleRate: number;
  throttleBurst: number;
  /** Compatibility groups open to callers without a key (README, "Clients that send no key"); undefined = none. */
  openAccess?: OpenAccess;
}

export function settingsFromContext(get: (key: string) => unknown): FaultlineSettings {
  const profile = get('faultline:profile') === 'development' ? 'development' : 'production';
  const list = (key: string, fallback: string[]) => {
    const v = get(key);
    return Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? v.split(',') : fallback;
  };
  const num = (key: string, fallback: number) => (get(key) === undefined ? fallback : Number(get(key)));
  return {
    profile,
    workerInstanceTypes: list(
      'faultline:workerInstanceTypes',
      profile === 'development' ? ['c6i.xlarge', 'c7i.xlarge'] : ['g5.xlarge', 'g6.xlarge'],
    ),
    spot: String(get('faultline:spot') ?? 'false') === 'true',
    maxvCpus: num('faultline:maxvCpus', 16),
    maxWorkers: num('faultline:maxWorkers', 2),
    corsOrigins: list('faultline:corsOrigins', ['*']),
    resultsRetentionDays: num('faultline:resultsRetentionDays', 90),
    defaultProject: (get('faultline:defaultProject') as string | undefined) || undefined,
    defaultClassifierProject: (get('faultline:defaultClassifierProject') as string | undefined) || undefined,
    jwtIssuer: (get('faultline:jwtIssuer') as string | undefined) || undefined,
    jwtAudience: list('faultline:jwtAudience', []),
    throttleRate: num('faultline:throttleRate', 50),
    throttleBurst: num('faultline:throttleBurst', 100),
    // The same names and checks as npm start's FAULTLINE_OPEN_* (functions/auth/open-access.ts).
    openAccess: openAccessFrom(
      {
        FAULTLINE_OPEN_ROUTES: list('faultline:openRoutes', []).join(','),
        FAULTLINE_OPEN_NETWORKS: list('faultline:openNetworks', []).join(','),
        FAULTLINE_OPEN_RATE_LIMIT: get('faultline:openRateLimit') as string | undefined,
        FAULTLINE_OPEN_RATE_BURST: get('faultline:openRateBurst') as string | undefined,
      },
      (get('faultline:defaultProject') as string | undefined) || undefined,
    ),
  };
}

/** Faultline in one stack: storage, messaging, the HTTP API, the GPU workers, monitoring. */
export class FaultlineStack extends Stack {
  readonly storage: Storage;
  readonly messaging: Messaging;
  readonly api: Api;
  readonly workers: Workers;
  readonly monitoring: Monitoring;
  readonly webConsole: WebConsole;
  readonly webhooks: WebhookDelivery;
  readonly pointConsumer: PointConsumer;
  readonly liveFeed: LiveFeed;

  constructor(scope: Construct, id: string, settings: FaultlineSettings, props: StackProps = {}) {
    super(scope, id, { description: 'Faultline: visual anomaly detection (PatchCore)', ...props });
    const production = settings.profile === 'production';
    // Log groups encrypted and kept a year, alarms that notify: for every one in the stack (lib/control-tower.ts).
    const operations = new OperationsBaseline(this, 'Operations');
    acknowledgeControlTowerFindings(this);
    this.storage = new Storage(this, 'Storage', {
      resultsRetentionDays: settings.resultsRetentionDays,
      retain: production,
    });
    this.messaging = new Messaging(this, 'Messaging', {
      bucket: this.storage.bucket,
      maxReceives: 3,
      visibilityTimeout: Duration.minutes(15),
    });
    const { layer } = new InferenceLayer(this, 'Inference');
    this.webConsole = new WebConsole(this, 'Console', {
      dataBucket: this.storage.bucket,
      logBucket: this.storage.accessLogs,
    });
    const shared = { storage: this.storage, messaging: this.messaging, layer };
    this.api = new Api(this, 'Api', {
      ...shared,
      routes,
      // The console calls the API from its CloudFront origin.
      corsOrigins: settings.corsOrigins.includes('*') ? ['*'] : [...settings.corsOrigins, this.webConsole.url],
      defaultProject: settings.defaultProject,
      defaultClassifierProject: settings.defaultClassifierProject,
      resultsRetentionDays: settings.resultsRetentionDays,
      throttle: { rate: settings.throttleRate, burst: settings.throttleBurst },
      openAccess: settings.openAccess,
      consoleUrl: this.webConsole.url,
      jwt: settings.jwtIssuer ? { issuer: settings.jwtIssuer, audience: settings.jwtAudience ?? [] } : undefined,
    });
    this.webConsole.deploy(this.api.httpApi.apiEndpoint, this.api.consoleSignIn);
    this.workers = new Workers(this, 'Workers', {
      ...shared,
      instanceTypes: settings.workerInstanceTypes,
      gpu: production,
      spot: settings.spot,
      maxvCpus: settings.maxvCpus,
      maxWorkers: settings.maxWorkers,
      natGateways: production ? 1 : 0,
      resultsRetentionDays: settings.resultsRetentionDays,
    });
    this.webhooks = new WebhookDelivery(this, 'WebhookDelivery', { ...shared, maxConcurrency: 5 });
    this.pointConsumer = new PointConsumer(this, 'PointConsumer', shared);
    this.liveFeed = new LiveFeed(this, 'Live', {
      ...shared,
      authorizer: this.api.authorizerFunction,
      posters: [this.pointConsumer.function],
      throttle: { rate: settings.throttleRate, burst: settings.throttleBurst },
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      httpApi: this.api.httpApi,
      functions: [
        this.api.apiFunction,
        this.api.detectFunction,
        this.workers.dispatcher,
        this.webhooks.function,
        this.liveFeed.socketFunction,
        this.liveFeed.eventsFunction,
      ],
      queue: this.messaging.queue,
      deadLetterQueue: this.messaging.deadLetterQueue,
      webhookDeadLetterQueue: this.messaging.webhookDeadLetterQueue,
      points: { consumer: this.pointConsumer.function, failures: this.messaging.pointFailures },
    });
    new CfnOutput(this, 'ApiUrl', { value: this.api.httpApi.apiEndpoint });
    new CfnOutput(this, 'AlarmTopicArn', { value: operations.alarmTopic.topicArn });
    new CfnOutput(this, 'ConsoleUrl', { value: this.webConsole.url });
    new CfnOutput(this, 'BucketName', { value: this.storage.bucket.bucketName });
    new CfnOutput(this, 'LiveUrl', { value: this.liveFeed.url });
    new CfnOutput(this, 'EventBusName', { value: this.messaging.bus.eventBusName });
    if (this.api.userPool) new CfnOutput(this, 'UserPoolId', { value: this.api.userPool.userPoolId });
    if (this.api.userPoolClientId) new CfnOutput(this, 'UserPoolClientId', { value: this.api.userPoolClientId });
  }
}
