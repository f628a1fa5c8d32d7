#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so that `npx faultline` works from a clone without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../functions/cli/main.ts');
