/**
 * The worker process (the GPU container on AWS Batch, or any machine with the settings): drains the work queue and
 * exits once it has been idle for FAULTLINE_IDLE_EXIT_SECONDS (so Batch capacity scales back to zero), or runs the
 * one job given as `--job JOB_ID` (training submitted as a Batch job). SIGTERM lets the current message finish.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { services } from '../service/adapters/aws-services.ts';
import { Worker } from './worker.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { values } = parseArgs({ options: { job: { type: 'string' } } });
const idleExitSeconds = z.coerce.number().int().min(0).default(300).parse(process.env.FAULTLINE_IDLE_EXIT_SECONDS);
const s = services();

if (values.job) {
  const worker = new Worker(s, { workerId: `batch-${process.env.AWS_BATCH_JOB_ID ?? process.pid}` });
  const ok = await worker.runStandalone(values.job);
  process.exit(ok ? 0 : 1);
}

const worker = new Worker(s, {
  workerId: `worker-${process.env.AWS_BATCH_JOB_ID ?? process.pid}`,
  idleExitSeconds: idleExitSeconds || undefined,
});
process.once('SIGTERM', () => void worker.stop());
process.once('SIGINT', () => void worker.stop());
worker.start();
await worker.stopped();
s.log({ msg: 'worker exiting', workerId: worker.id });
