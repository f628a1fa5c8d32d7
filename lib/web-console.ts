import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { acknowledgeControl } from './control-tower.ts';
import { Construct } from 'constructs';
import { consoleContentSecurityPolicy } from '../functions/local/console/security-headers.ts';
import type { ConsoleConfig, OidcConfig } from '../console/src/api/console-config.ts';
import { CONSOLE_DIST } from './console-build.ts';

export interface WebConsoleProps {
  /** The data bucket: presigned URLs for images and uploads point to it. */
  dataBucket: s3.IBucket;
  /** Where S3 and CloudFront access logs go. */
  logBucket: s3.IBucket;
}

/**
 * The web console: its built files (console/dist) in a private bucket behind CloudFront with Origin Access Control,
 * security headers on every answer, and the console's page for every path it does not know (its own routes). The
 * API's address reaches the console in /config.json, written at deploy time by `deploy()`.
 */
export class WebConsole extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly url: string;

  constructor(scope: Construct, id: string, props: WebConsoleProps) {
    super(scope, id);
    if (!existsSync(join(CONSOLE_DIST, 'index.html')))
      throw new Error(
        `the web console is not built (${CONSOLE_DIST} has no index.html): the CDK app (bin/app.ts) builds it; elsewhere run npm run build:console first`,
      );
    const region = Stack.of(this).region;
    this.bucket = new s3.Bucket(this, 'Files', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: props.logBucket,
      serverAccessLogsPrefix: 'console-bucket/',
      // A deployment that went wrong can be rolled back file by file (CT.S3.PR.11); replaced files go after 30 days.
      versioned: true,
      lifecycleRules: [
        { noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(2) },
      ],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    acknowledgeControl(
      this.bucket,
      's3_bucket_default_encryption_kms_check',
      "The console's files are the same for everyone and served publicly through CloudFront; SSE-S3 suffices, and SSE-KMS would need CloudFront's OAC to be granted the key.",
    );
    acknowledgeControl(
      this.bucket,
      's3_event_notifications_enabled_check',
      'Files change only by deployment (BucketDeployment); nothing acts on them.',
    );
    acknowledgeControl(
      this.bucket,
      's3_bucket_object_lock_enabled_check',
      'Each deployment replaces the files, and a development stack removes the bucket; versioning keeps earlier files.',
    );
    // Images and uploads go to the data bucket by presigned URL; API calls go to API Gateway (another origin).
    const s3Origin = `https://${props.dataBucket.bucketRegionalDomainName}`;
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Faultline console: CSP (self, the data bucket, the API), no framing, no sniffing, no referrer, HSTS',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: consoleContentSecurityPolicy({
            imageOrigins: [s3Origin],
            // The API, and the user pool's discovery document and hosted UI token endpoint (people's sign-in).
            connectOrigins: [
              s3Origin,
              `https://*.execute-api.${region}.amazonaws.com`,
              `https://cognito-idp.${region}.amazonaws.com`,
              `https://*.auth.${region}.amazoncognito.com`,
            ],
          }),
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
      },
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Faultline web console',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        compress: true,
      },
      // The console's own routes (/projects/...) are not objects: S3 answers 403 through OAC; the page handles them.
      errorResponses: [403, 404].map((httpStatus) => ({
        httpStatus,
        responseHttpStatus: 200,
        responsePagePath: '/index.html',
        ttl: Duration.seconds(0),
      })),
      enableLogging: true,
      logBucket: props.logBucket,
      logFilePrefix: 'console-cdn/',
    });
    this.url = `https://${this.distribution.distributionDomainName}`;
    // A custom domain needs the operator's own certificate (ACM, us-east-1) and DNS: with one, SNI and TLS 1.2 follow.
    for (const [rule, reason] of [
      [
        'cloudfront_origin_failover_enabled_check',
        "One origin: the console bucket in the stack's region. A second region's copy is a disaster-recovery choice; the API it talks to is single-region too.",
      ],
      [
        'cloudfront_custom_ssl_certificate_check',
        'The distribution uses the default *.cloudfront.net certificate; a custom domain with its own ACM certificate is a deployment choice.',
      ],
      [
        'cloudfront_sni_enabled_check',
        'SNI applies to a custom certificate; the default *.cloudfront.net certificate is served by CloudFront itself.',
      ],
      [
        'cloudfront_security_policy_check',
        'With the default *.cloudfront.net certificate CloudFront fixes the minimum protocol (TLSv1); a custom domain certificate allows TLSv1.2_2021.',
      ],
    ])
      acknowledgeControl(this.distribution, rule, reason);
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-CFR1',
        reason:
          'The console is static files; who may use it is decided by the API key or token the API checks, not by country.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-CFR2',
        reason:
          'WAF costs per request and rule; the console is static files and the API has its own throttling. A deployment choice.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-CFR4',
        reason:
          'The default *.cloudfront.net certificate fixes the viewer policy at TLSv1; a custom domain with its own certificate (and TLS 1.2 minimum) is a deployment choice.',
      },
    );
  }

  /** Uploads the built files, and /config.json with the API's address and people's sign-in; the page and config are never cached. */
  deploy(apiUrl: string, oidc?: OidcConfig): void {
    const common = { destinationBucket: this.bucket, distribution: this.distribution, prune: false, memoryLimit: 256 };
    const assets = new BucketDeployment(this, 'DeployAssets', {
      ...common,
      sources: [Source.asset(join(CONSOLE_DIST, 'assets'))],
      destinationKeyPrefix: 'assets/',
      cacheControl: [CacheControl.setPublic(), CacheControl.maxAge(Duration.days(365)), CacheControl.immutable()],
    });
    const pages = new BucketDeployment(this, 'DeployPages', {
      ...common,
      sources: [
        Source.asset(CONSOLE_DIST, { exclude: ['assets/**'] }),
        Source.jsonData('config.json', { apiUrl, authRequired: true, oidc } satisfies ConsoleConfig),
      ],
      cacheControl: [CacheControl.noCache()],
      distributionPaths: ['/index.html', '/config.json'],
    });
    pages.node.addDependency(assets); // the page is replaced only once the files it names are there
    // CDK's deployment function (one per stack) copies from the CDK asset bucket into the console bucket only.
    const stack = Stack.of(this);
    const copier = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    const filesArn = stack.getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    if (copier) {
      Validations.of(copier).acknowledge(
        ...[
          'Action::s3:GetBucket*',
          'Action::s3:GetObject*',
          'Action::s3:List*',
          'Action::s3:Abort*',
          'Action::s3:DeleteObject*',
          'Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*',
          `Resource::<${filesArn}.Arn>/*`,
        ].map((finding) => ({
          id: `AwsSolutions::AwsSolutions-IAM5[${finding}]`,
          reason:
            "CDK's BucketDeployment copies the console's files from the CDK asset bucket into the console bucket (CDK's own grant); it has no access to the data bucket.",
        })),
      );
    }
  }
}
