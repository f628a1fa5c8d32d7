import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * One set of stand-ins per data folder. A second dynalite on the same LevelDB folder does not fail politely: it
 * throws "Database is closed" from a callback and takes the whole process down. A lock file with the owner's pid
 * turns that into an error at start; a lock left by a process that no longer runs is taken over.
 */

const LOCK_FILE = 'stand-ins.lock';

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // runs, as another user
  }
};

/** Takes the data folder (which must exist) and resolves with the function that gives it back. */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, LOCK_FILE);
  try {
    await writeFile(path, String(process.pid), { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && isRunning(owner)) {
      const who = owner === process.pid ? 'this process' : `process ${owner}`;
      throw new Error(
        `data folder ${dataDir} is in use by ${who} (stand-ins already running there); if not, delete ${path}`,
      );
    }
    await writeFile(path, String(process.pid));
  }
  return () => rm(path, { force: true });
}
