/** The Lambda entry point of the API functions (bundled by the CDK app); see handler.ts. */
export { handler } from './handler.ts';
