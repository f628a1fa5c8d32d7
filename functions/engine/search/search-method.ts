/**
 * How the patch search runs: 'exact' (every patch against the whole bank: the oracle) or 'cell-probe'
 * (CellProbeSearch: cells, then the farthest patches re-ranked exactly; the default).
 */
export type SearchMethod = 'exact' | 'cell-probe';

export const SEARCH_METHODS: readonly SearchMethod[] = ['exact', 'cell-probe'];

export const DEFAULT_SEARCH_METHOD: SearchMethod = 'cell-probe';

/** Names kept for settings written before: 'two-stage' was the cell search's first form (README "Search"). */
const FORMER_NAMES: Readonly<Record<string, SearchMethod>> = { 'two-stage': 'cell-probe' };

/** The method a setting names, or an error that lists the valid ones. */
export function parseSearchMethod(name: string): SearchMethod {
  const method = FORMER_NAMES[name] ?? name;
  if (!SEARCH_METHODS.includes(method as SearchMethod))
    throw new Error(`FAULTLINE_SEARCH: unknown search "${name}" (use ${SEARCH_METHODS.join(', ')})`);
  return method as SearchMethod;
}
