/** The API key the console sends, kept for this browser tab only (sessionStorage). */
const STORAGE_KEY = 'faultline.apiKey';

export const storedApiKey = (): string | undefined => sessionStorage.getItem(STORAGE_KEY) ?? undefined;

export const storeApiKey = (key: string): void => sessionStorage.setItem(STORAGE_KEY, key.trim());

export const forgetApiKey = (): void => sessionStorage.removeItem(STORAGE_KEY);

/**
 * A key handed over in the address (`/#key=...`, the link `npm start` prints) is taken once and removed from the
 * address bar at once, so that it stays out of the history and of anything copied from there.
 */
export function takeKeyFromFragment(): void {
  const params = new URLSearchParams(location.hash.slice(1));
  const key = params.get('key');
  if (!key) return;
  storeApiKey(key);
  params.delete('key');
  const rest = params.toString();
  history.replaceState(history.state, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
}
