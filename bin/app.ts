/** The CDK app: `npx cdk synth` / `npx cdk deploy` (settings in cdk.json's context, or -c key=value). */
import { App, Validations } from 'aws-cdk-lib';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildConsole } from '../lib/console-build.ts';
import { FaultlineStack, settingsFromContext } from '../lib/faultline-stack.ts';
import { acknowledgeNagFindings } from '../lib/nag-suppressions.ts';

await buildConsole(); // deployed with the stack: built here so synth and deploy work on a fresh clone
const app = new App();
const stack = new FaultlineStack(
  app,
  'Faultline',
  settingsFromContext((key) => app.node.tryGetContext(key)),
  {
    env: process.env.CDK_DEFAULT_ACCOUNT
      ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
      : undefined,
  },
);
acknowledgeNagFindings(stack);
// cdk-nag, and AWS Control Tower's proactive controls (cfn-guard, offline; lib/control-tower.ts has the exceptions).
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new CfnGuardValidator());
