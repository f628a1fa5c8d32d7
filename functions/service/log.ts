/** Structured logs: one JSON object per line on stdout (CloudWatch in AWS, the terminal locally). */
export type Log = (line: Record<string, unknown>) => void;

export const jsonLog: Log = (line) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', ...line })}\n`);
};

export const silentLog: Log = () => {};
