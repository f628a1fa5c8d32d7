// The stand-ins thread's start (stand-ins-thread.ts): a thread does not inherit the TypeScript loader of the process
// that starts it, so it registers tsx's before it loads the TypeScript entry.
import { register } from 'tsx/esm/api';

register();
await import('./stand-ins-thread-entry.ts');
