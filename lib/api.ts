import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { CALLBACK_PATH } from '../console/src/auth/callback-path.ts';
import { HttpApi, CfnStage, CorsHttpMethod, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { RouteDefinition } from '../functions/api/http/route.ts';
import type { OpenAccess } from '../functions/auth/open-access.ts';
import { COMPAT_MODEL_OPERATIONS } from '../functions/api/routes/compat-operations.ts';
import { allResources, type DataPlane, serviceEnvironment } from './data-plane.ts';
import { projectRoot as root } from './inference-layer.ts';
import { NodeFunction } from './node-function.ts';
import { acknowledgeControl } from './control-tower.ts';

/** The Cognito group (the `cognito:groups` claim) whose members are administrators. */
export const ADMIN_GROUP = 'faultline-admins';

/** Routes that run the model: their own function, with more memory (and so more CPU). */
export const DETECTION_OPERATIONS = new Set([
  'detect',
  'detectAnomaly',
  'batchDetect',
  // older contracts that run the model (or train it, in the request)
  ...COMPAT_MODEL_OPERATIONS,
]);

export interface ApiProps extends DataPlane {
  routes: RouteDefinition[];
  corsOrigins: string[];
  defaultProject?: string;
  /** The classification project /api/v1/analyze/* acts on. */
  defaultClassifierProject?: string;
  resultsRetentionDays: number;
  /** Requests per second and burst, for the whole API. */
  throttle: { rate: number; burst: number };
  /** An existing OIDC issuer and audience for the JWTs the authorizer accepts (beside API keys); else a Cognito user pool is created. */
  jwt?: { issuer: string; audience: string[] };
  /** The web console's address: its sign-in with the user pool's hosted UI comes back there. */
  consoleUrl?: string;
  /** Compatibility groups open to callers without a key, from listed networks, on the default project. */
  openAccess?: OpenAccess;
}

/** The HTTP API: every route of the OpenAPI document, on two Lambda functions, behind one Lambda authorizer that takes a JWT or an API key. */
export class Api extends Construct {
  readonly httpApi: HttpApi;
  readonly apiFunction: NodejsFunction;
  readonly detectFunction: NodejsFunction;
  readonly userPool?: cognito.UserPool;
  readonly authorizerFunction: NodejsFunction;
  userPoolClientId?: string;
  /** How the console signs people in (its /config.json, console/src/api/config.ts), where the stack has a user pool. */
  consoleSignIn?: { authority: string; clientId: string; signOutUrl: string };

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);

    // The HMAC key of page cursors: generated once at deployment, handed to the API function as a dynamic reference
    // (resolved by CloudFormation, never written into the template).
    const cursorSecret = new secretsmanager.Secret(this, 'CursorSecret', {
      description: 'Signs the page cursors the Faultline API gives out',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const environment = {
      ...serviceEnvironment(allResources(props), {
        FAULTLINE_CURSOR_SECRET: cursorSecret.secretValue.unsafeUnwrap(),
        FAULTLINE_DEFAULT_PROJECT: props.defaultProject,
        FAULTLINE_DEFAULT_CLASSIFIER_PROJECT: props.defaultClassifierProject,
        FAULTLINE_RESULT_RETENTION_DAYS: String(props.resultsRetentionDays),
        // The bundle keeps models/ (manifests and the backbone) beside it; models load into /tmp, which a warm
        // container keeps between invocations.
        FAULTLINE_MODELS_DIR: '/var/task/models',
        FAULTLINE_MODEL_CACHE_DIR: '/tmp/faultline-models',
      }),
      NODE_OPTIONS: '--enable-source-maps',
    };
    const backbone = [join(root, '..', 'shared', 'models'), join(root, '.cache', 'backbones')].find(
      (d) => existsSync(d) && readdirSync(d).some((f) => f.endsWith('.onnx')),
    );
    const make = (name: string, memorySize: number, description: string) =>
      new NodeFunction(this, name, {
        entry: join('api', 'lambda-entry.ts'),
        memorySize,
        timeout: Duration.seconds(29),
        description,
        layer: props.layer,
        environment,
        tracing: lambda.Tracing.ACTIVE,
        bundling: {
          sourceMap: true,
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (_input: string, output: string) => [
              `mkdir -p ${output}/models`,
              `cp ${join(root, 'models')}/*.json ${output}/models/`,
              ...(backbone ? [`cp ${backbone}/*.onnx ${output}/models/`] : []),
            ],
          },
        },
      });
    this.apiFunction = make('ApiFunction', 1024, 'Faultline API: projects, uploads, jobs, models, results');
    this.detectFunction = make('DetectFunction', 3008, 'Faultline API: synchronous detection on CPU');
    for (const fn of [this.apiFunction, this.detectFunction]) {
      props.storage.grantData(fn);
      props.messaging.grantSendWork(fn);
      props.messaging.grantAnnounce(fn);
      props.messaging.grantPutPoints(fn);
    }
    // The administrators' redrive (POST /api/v1/dead-letters/redrive) moves dead letters back to the work queue.
    props.messaging.grantConsumeDeadLetters(this.apiFunction);

    let issuer: string;
    let audience: string[];
    if (props.jwt) {
      ({ issuer, audience } = props.jwt);
    } else {
      this.userPool = new cognito.UserPool(this, 'Users', {
        selfSignUpEnabled: false,
        passwordPolicy: {
          minLength: 12,
          requireDigits: true,
          requireLowercase: true,
          requireUppercase: true,
          requireSymbols: true,
        },
        mfa: cognito.Mfa.OPTIONAL,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      // SRP for the console; password auth so that the AWS CLI can get a token (README, "The first image").
      const client = this.userPool.addClient('Console', {
        authFlows: { userSrp: true, userPassword: true },
        generateSecret: false,
      });
      // Members see every project and manage every key; everyone else sees the projects they created.
      new cognito.CfnUserPoolGroup(this, 'Administrators', {
        userPoolId: this.userPool.userPoolId,
        groupName: ADMIN_GROUP,
        description: 'Faultline administrators: every project, every API key',
      });
      this.userPoolClientId = client.userPoolClientId;
      issuer = `https://cognito-idp.${this.userPool.stack.region}.amazonaws.com/${this.userPool.userPoolId}`;
      audience = [client.userPoolClientId];
      if (props.consoleUrl) {
        // The console's sign-in: the hosted UI, authorization code flow with PKCE, a public client (no secret). The
        // domain prefix is unique per stack (the first part of the stack id's UUID).
        const stackId = Stack.of(this).stackId;
        const domain = this.userPool.addDomain('SignIn', {
          cognitoDomain: {
            domainPrefix: Fn.join('-', [
              'faultline',
              Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', stackId)))),
            ]),
          },
        });
        const web = this.userPool.addClient('Web', {
          generateSecret: false,
          authFlows: {},
          oAuth: {
            flows: { authorizationCodeGrant: true },
            scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
            callbackUrls: [`${props.consoleUrl}${CALLBACK_PATH}`],
            logoutUrls: [`${props.consoleUrl}/`],
          },
          supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
          preventUserExistenceErrors: true,
          idTokenValidity: Duration.hours(1),
          accessTokenValidity: Duration.hours(1),
          refreshTokenValidity: Duration.hours(12),
        });
        audience.push(web.userPoolClientId);
        this.consoleSignIn = {
          authority: issuer,
          clientId: web.userPoolClientId,
          signOutUrl: `${domain.baseUrl()}/logout`,
        };
      }
    }
    // Routes of the groups opened to callers without a key: the authorizer admits those from the listed networks
    // (HTTP APIs take no resource policy and no WAF web ACL), and the stage throttles these routes on their own.
    const openRouteKeys = props.routes.flatMap((r) =>
      r.compatGroup && props.openAccess?.groups.has(r.compatGroup)
        ? [{ key: `${r.method} ${r.path}`, group: r.compatGroup }]
        : [],
    );
    // People send a JWT (Authorization: Bearer), machines an API key (x-api-key): one Lambda authorizer takes either.
    this.authorizerFunction = new NodeFunction(this, 'Authorizer', {
      entry: join('auth', 'authorizer.ts'),
      // Loads nothing native: arm64, and the runtime's own AWS SDK (NodejsFunction's default) for a smaller bundle.
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(5),
      description: 'Faultline API: JWT or API key',
      environment: {
        FAULTLINE_TABLE: props.storage.table.tableName,
        FAULTLINE_JWT_ISSUER: issuer,
        FAULTLINE_JWT_AUDIENCE: audience.join(','),
        FAULTLINE_ADMIN_GROUP: ADMIN_GROUP,
        FAULTLINE_PUBLIC_ROUTES: props.routes
          .filter((r) => r.public)
          .map((r) => `${r.method} ${r.path}`)
          .join(','),
        ...(props.openAccess
          ? {
              FAULTLINE_OPEN_ROUTES: [...props.openAccess.groups].join(','),
              FAULTLINE_OPEN_NETWORKS: props.openAccess.networks.join(','),
              FAULTLINE_DEFAULT_PROJECT: props.openAccess.projectId,
              FAULTLINE_OPEN_ROUTE_GROUPS: JSON.stringify(
                Object.fromEntries(openRouteKeys.map((k) => [k.key, k.group])),
              ),
            }
          : {}),
      },
      bundling: { externalModules: ['@aws-sdk/*'] },
    });
    this.authorizerFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [props.storage.table.tableArn] }),
    );
    const authorizer = new HttpLambdaAuthorizer('JwtOrApiKey', this.authorizerFunction, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      // Either header may carry the credential, so no single identity source; results are not cached.
      identitySource: [],
      resultsCacheTtl: Duration.seconds(0),
    });

    this.httpApi = new HttpApi(this, 'Http', {
      description: 'Faultline API',
      corsPreflight: {
        allowOrigins: props.corsOrigins,
        allowMethods: [
          CorsHttpMethod.GET,
          CorsHttpMethod.POST,
          CorsHttpMethod.PUT,
          CorsHttpMethod.PATCH,
          CorsHttpMethod.DELETE,
        ],
        allowHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-api-key'],
        maxAge: Duration.hours(1),
      },
    });
    const apiIntegration = new HttpLambdaIntegration('Api', this.apiFunction);
    const detectIntegration = new HttpLambdaIntegration('Detect', this.detectFunction);
    for (const route of props.routes) {
      this.httpApi.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: DETECTION_OPERATIONS.has(route.operationId) ? detectIntegration : apiIntegration,
        // Public routes too (CT.APIGATEWAY.PR.5: every route names its authorization): the authorizer admits anyone
        // on them (FAULTLINE_PUBLIC_ROUTES).
        authorizer,
      });
    }
    acknowledgeControl(
      this.httpApi,
      'lambda_function_public_access_prohibited_check',
      "API Gateway's invoke permissions name this API's execute-api ARN as SourceArn; the control only reads a literal or a direct reference there, and the ARN is built with Fn::Join.",
    );

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stage = this.httpApi.defaultStage!.node.defaultChild as CfnStage;
    stage.defaultRouteSettings = {
      throttlingRateLimit: props.throttle.rate,
      throttlingBurstLimit: props.throttle.burst,
      detailedMetricsEnabled: true,
    };
    if (props.openAccess && openRouteKeys.length > 0)
      stage.routeSettings = Object.fromEntries(
        openRouteKeys.map(({ key }) => [
          key,
          // RouteSettings is raw JSON to CloudFormation: its own property names.
          {
            ThrottlingRateLimit: props.openAccess!.rate.rate,
            ThrottlingBurstLimit: props.openAccess!.rate.burst,
            DetailedMetricsEnabled: true,
          },
        ]),
      );
    stage.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        method: '$context.httpMethod',
        route: '$context.routeKey',
        status: '$context.status',
        latency: '$context.responseLatency',
        integrationError: '$context.integrationErrorMessage',
      }),
    };
  }
}
