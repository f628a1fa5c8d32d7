import type { Context } from 'aws-lambda';

/**
 * The Lambda context a handler gets locally. Only what handlers read is meaningful (the request id, the time left);
 * the rest is filled with plausible values so code that logs it does not trip over undefined.
 */

export const LOCAL_FUNCTION_NAME = 'faultline-local';

export function lambdaContext(awsRequestId: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const fail = () => {
    throw new Error('callback-style context methods are not supported locally: return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: LOCAL_FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${LOCAL_FUNCTION_NAME}`,
    memoryLimitInMB: '1024',
    awsRequestId,
    logGroupName: `/aws/lambda/${LOCAL_FUNCTION_NAME}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: fail,
    fail,
    succeed: fail,
  };
}
