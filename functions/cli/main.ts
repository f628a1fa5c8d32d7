import { Command } from 'commander';
import { FaultlineError } from '../engine/errors.ts';
import { ENGINE_VERSION } from '../engine/version.ts';
import { registerBench } from './commands/bench.ts';
import { registerClassify } from './commands/classify.ts';
import { registerDetect } from './commands/detect.ts';
import { registerDetectObjects } from './commands/detect-objects.ts';
import { registerEval } from './commands/evaluate.ts';
import { registerLookoutManifest } from './commands/lookout-manifest.ts';
import { registerModels } from './commands/models.ts';
import { registerRedrive } from './commands/redrive.ts';
import { registerSeries } from './commands/series.ts';
import { registerTrain } from './commands/train.ts';
import { errorJson, EXIT_FAILURE, EXIT_USAGE } from './output.ts';

/** The faultline command line: JSON on stdout, progress and errors on stderr. */
export function buildProgram(): Command {
  const program = new Command('faultline')
    .description('PatchCore visual anomaly detection: train on normal images, detect, evaluate, benchmark')
    .version(ENGINE_VERSION)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE));
  registerModels(program);
  registerTrain(program);
  registerDetect(program);
  registerDetectObjects(program);
  registerEval(program);
  registerBench(program);
  registerRedrive(program);
  registerSeries(program);
  registerClassify(program);
  registerLookoutManifest(program);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`${JSON.stringify({ error: errorJson(error) })}\n`);
  if (!(error instanceof FaultlineError)) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
  process.exitCode = error instanceof FaultlineError && error.code === 'INVALID_OPTION' ? EXIT_USAGE : EXIT_FAILURE;
}
