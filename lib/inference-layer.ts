import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { buildInferenceLayer } from '../layers/build-inference-layer.ts';

export const projectRoot = join(import.meta.dirname, '..');

/** The Lambda layer with onnxruntime-node and sharp (linux x86_64), built by layers/build-inference-layer.ts. */
export class InferenceLayer extends Construct {
  readonly layer: lambda.LayerVersion;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const dir = join(projectRoot, 'layers', 'inference');
    if (!existsSync(join(dir, 'nodejs', 'node_modules', 'onnxruntime-node'))) buildInferenceLayer(dir);
    this.layer = new lambda.LayerVersion(this, 'Layer', {
      code: lambda.Code.fromAsset(dir),
      compatibleRuntimes: [lambda.Runtime.NODEJS_22_X],
      compatibleArchitectures: [lambda.Architecture.X86_64],
      description: 'onnxruntime-node and sharp, linux x86_64 binaries only',
    });
  }
}
