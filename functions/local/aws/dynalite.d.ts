// dynalite ships no types: only what the local stand-ins use (dynalite 4.0.0, index.js).
declare module 'dynalite' {
  import type { Server } from 'node:http';

  namespace dynalite {
    interface Options {
      /** LevelDB folder; in memory when absent. */
      path?: string;
      createTableMs?: number;
      deleteTableMs?: number;
      updateTableMs?: number;
      maxItemSizeKb?: number;
      verbose?: boolean;
      debug?: boolean;
    }
  }

  /** An http.Server whose close() also closes the LevelDB store (after the server has listened). */
  function dynalite(options?: dynalite.Options): Server;

  export = dynalite;
}
