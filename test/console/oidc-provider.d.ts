// oidc-provider ships no type declarations; the test uses a handful of its options and events.
declare module 'oidc-provider';
