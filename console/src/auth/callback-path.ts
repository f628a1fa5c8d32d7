/** Where the issuer sends the browser back with the authorization code: registered with the app client (lib/api.ts). */
export const CALLBACK_PATH = '/auth/callback';
