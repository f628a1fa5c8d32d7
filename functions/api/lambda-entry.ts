/** The file the CDK app bundles into the API functions (lib/api.ts); the handler dispatches by route key (route-handlers.ts). */
export { handler } from './route-handlers.ts';
