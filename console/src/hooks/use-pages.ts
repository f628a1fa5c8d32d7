import { useEffect, useState } from 'preact/hooks';
import { type Resource, useResource } from './use-resource.ts';

export interface Page<T> {
  items: T[];
  cursor: string | null;
}

export interface Pages<T> {
  /** The first page's request (loading state, error, reload). */
  first: Resource<Page<T>>;
  items: T[];
  setItems: (change: (items: T[]) => T[]) => void;
  /** Set while there are more pages. */
  cursor: string | null;
  more: { busy: boolean; error?: unknown };
  loadMore: () => Promise<void>;
}

/** A list the API pages with a cursor: the first page (again when `deps` change), then more on request. */
export function usePages<T>(load: (cursor?: string) => Promise<Page<T>>, deps: unknown[]): Pages<T> {
  const first = useResource(() => load(), deps);
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [more, setMore] = useState<{ busy: boolean; error?: unknown }>({ busy: false });
  useEffect(() => {
    if (first.data) {
      setItems(first.data.items);
      setCursor(first.data.cursor);
    }
  }, [first.data]);
  const loadMore = async () => {
    setMore({ busy: true });
    try {
      const page = await load(cursor ?? undefined);
      setItems((i) => [...i, ...page.items]);
      setCursor(page.cursor);
      setMore({ busy: false });
    } catch (error) {
      setMore({ busy: false, error });
    }
  };
  return { first, items, setItems, cursor, more, loadMore };
}
