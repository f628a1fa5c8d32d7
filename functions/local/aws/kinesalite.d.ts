// kinesalite ships no types: only what the local stand-in uses (kinesalite 3.3.3, index.js).
declare module 'kinesalite' {
  import type { Server } from 'node:http';

  namespace kinesalite {
    interface Options {
      /** LevelDB folder (through leveldown, a dependency of the project for this); in memory when absent. */
      path?: string;
      createStreamMs?: number;
      deleteStreamMs?: number;
      updateStreamMs?: number;
      shardLimit?: number;
    }
  }

  /** An http.Server whose close() also closes its store. */
  function kinesalite(options?: kinesalite.Options): Server;

  export = kinesalite;
}
