import { join } from 'node:path';
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { LAYER_PACKAGES } from '../layers/build-inference-layer.ts';
import { LAMBDA_PATHS } from './data-plane.ts';
import { TELEMETRY_ENVIRONMENT } from '../functions/service/telemetry/metric-catalog.ts';
import { projectRoot } from './inference-layer.ts';

export interface NodeFunctionProps {
  /** The handler's file, relative to functions/ (e.g. 'api/lambda.ts'); it exports `handler`. */
  entry: string;
  description: string;
  memorySize: number;
  timeout: Duration;
  /** Settings of the function (lib/data-plane.ts builds the service's); unset values are left out. */
  environment?: Record<string, string | undefined>;
  /** The inference layer, for functions whose bundle loads the engine's native modules (onnxruntime-node, sharp). */
  layer?: lambda.ILayerVersion;
  /** Default x86_64: the layer carries the linux-x64 builds of onnxruntime and sharp. */
  architecture?: lambda.Architecture;
  /** Default active: Powertools' Tracer sends X-Ray segments of the handler and its AWS calls. */
  tracing?: lambda.Tracing;
  /** The log group's id beside the function; default `${id}Logs`. */
  logGroupId?: string;
  /** Merged over the defaults (ESM with a `require` shim, minified, node22, the layer's packages left out). */
  bundling?: Pick<BundlingOptions, 'sourceMap' | 'commandHooks' | 'externalModules'>;
}

/**
 * Every Lambda function of the stack: Node.js 22, an ESM bundle, a log group kept a month, the engine's paths inside
 * the bundle. The log group sits beside the function in the same scope (not inside it), so its logical id, and the
 * logs, stay where they were when each construct made its own.
 */
export class NodeFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
    const environment: Record<string, string> = {};
    for (const [k, v] of Object.entries({
      ...LAMBDA_PATHS,
      ...TELEMETRY_ENVIRONMENT,
      ...props.environment,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    }))
      if (v !== undefined) environment[k] = v;
    super(scope, id, {
      entry: join(projectRoot, 'functions', props.entry),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: props.architecture ?? lambda.Architecture.X86_64,
      layers: props.layer ? [props.layer] : [],
      memorySize: props.memorySize,
      timeout: props.timeout,
      description: props.description,
      environment,
      tracing: props.tracing ?? lambda.Tracing.ACTIVE,
      logGroup: new logs.LogGroup(scope, props.logGroupId ?? `${id}Logs`, {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        // The layer provides these (and a function without the layer never imports them).
        externalModules: LAYER_PACKAGES,
        // esbuild's ESM output has no `require` for the CommonJS modules it bundles.
        banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
        ...props.bundling,
      },
    });
  }
}
