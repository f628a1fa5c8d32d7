import { powertools, powertoolsLog } from './adapters/powertools.ts';

/** Structured logs: one JSON object per line on stdout (CloudWatch in AWS, the terminal locally). */
export type Log = (line: Record<string, unknown>) => void;

/** The process's Powertools Logger (adapters/powertools.ts): level and sampling by POWERTOOLS_ settings. */
let processLog: Log | undefined;
export const jsonLog: Log = (line) => (processLog ??= powertoolsLog(powertools().logger))(line);

export const silentLog: Log = () => {};
