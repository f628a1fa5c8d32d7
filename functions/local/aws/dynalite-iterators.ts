import { createRequire } from 'node:module';

/**
 * dynalite 4.0 ends a query's LevelDB iterator with `iterator.return()`, a method abstract-level's iterators do not
 * have (they have close()), so every Query and Scan left its native iterator open: the local runtime's memory grew by
 * about 10 MB per 1,000 queries until the process was restarted. Giving the iterators a return() that closes them
 * (close() waits for a next() in progress) lets dynalite's own clean-up work.
 */
export function closeDynaliteIterators(): void {
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const fromLevel = createRequire(fromDynalite.resolve('level'));
  const { AbstractValueIterator } = fromLevel('abstract-level') as { AbstractValueIterator: { prototype: object } };
  // CommonIterator: the base of the key, value and entry iterators alike.
  const common = Object.getPrototypeOf(AbstractValueIterator.prototype) as {
    return?: () => Promise<void>;
    close(): Promise<void>;
  };
  if (typeof common.return === 'function') return;
  Object.defineProperty(common, 'return', {
    value: function close(this: { close(): Promise<void> }) {
      return this.close();
    },
    configurable: true,
    writable: true,
  });
}
