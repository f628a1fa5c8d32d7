import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../functions/engine/paths.ts';
import { FaultlineStack, settingsFromContext } from '../../lib/faultline-stack.ts';
import { buildConsole, CONSOLE_DIST } from '../../lib/console-build.ts';
import { existsSync } from 'node:fs';

const context = JSON.parse(readFileSync(join(projectRoot(), 'cdk.json'), 'utf8')).context as Record<string, unknown>;

interface Violation {
  ruleName: string;
  description: string;
  violatingConstructs: { constructPath?: string }[];
}
interface Report {
  pluginReports: {
    pluginName: string;
    conclusion: string;
    violations: Violation[];
    suppressedViolations?: { ruleName: string; reason?: string }[];
  }[];
}

/** Synthesises the stack under the app's cfn-guard validation (bundling skipped: the template's resources are the same). */
function validate(overrides: Record<string, unknown>): { report: Report; error?: string } {
  const outdir = mkdtempSync(join(tmpdir(), 'faultline-guard-'));
  dirs.push(outdir);
  const app = new App({
    outdir,
    context: { ...context, ...overrides, 'aws:cdk:bundling-stacks': [] },
  });
  Validations.of(app).addPlugins(new CfnGuardValidator());
  new FaultlineStack(
    app,
    'Faultline',
    settingsFromContext((k) => app.node.tryGetContext(k)),
  );
  let error: string | undefined;
  try {
    app.synth();
  } catch (e) {
    error = (e as Error).message;
  }
  return { report: JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as Report, error };
}
const dirs: string[] = [];

const unacknowledged = (report: Report) =>
  report.pluginReports.flatMap((p) =>
    p.violations.map((v) => `${v.ruleName}: ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`),
  );

describe("AWS Control Tower's proactive controls (cfn-guard)", () => {
  beforeAll(async () => {
    if (!existsSync(join(CONSOLE_DIST, 'index.html'))) await buildConsole();
  });
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  // One profile: cfn-guard takes a while on the whole template (about a minute on 2 idle cores). The development
  // profile differs only by its public subnets (acknowledged in lib/workers.ts).
  it('passes every control but the acknowledged ones, each with its reason (production profile)', () => {
    const { report, error } = validate({ 'faultline:profile': 'production' });
    const guard = report.pluginReports.find((p) => p.pluginName === 'cdk-validator-cfnguard')!;
    expect(unacknowledged(report)).toEqual([]);
    expect(error).toBeUndefined();
    expect(guard.conclusion).toBe('success');
    // The exceptions, as the README lists them: a new one is a decision to review, not a side effect.
    expect([...new Set(guard.suppressedViolations!.map((v) => v.ruleName))].sort()).toEqual([
      'api_gw_v2_authorization_type_configured_check',
      'cloudfront_custom_ssl_certificate_check',
      'cloudfront_origin_failover_enabled_check',
      'cloudfront_security_policy_check',
      'cloudfront_sni_enabled_check',
      'lambda_function_public_access_prohibited_check',
      'lambda_inside_vpc_check',
      's3_bucket_acl_prohibited_check',
      's3_bucket_default_encryption_kms_check',
      's3_bucket_logging_enabled_check',
      's3_bucket_object_lock_enabled_check',
      's3_event_notifications_enabled_check',
      'sqs_dlq_check',
    ]);
    for (const v of guard.suppressedViolations!) expect(v.reason, v.ruleName).toMatch(/.{40,}/);
  });
});
