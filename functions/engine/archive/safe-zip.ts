import { stat } from 'node:fs/promises';
import yauzl from 'yauzl';
import { ArchiveError } from '../errors.ts';

/** What an uploaded ZIP may hold. Checked from the central directory before anything is inflated, then while reading. */
export interface ZipLimits {
  /** Size of the ZIP file itself. */
  maxArchiveBytes: number;
  /** Entries, folders included. */
  maxEntries: number;
  /** Uncompressed size of one entry. */
  maxEntryBytes: number;
  /** Uncompressed size of all entries together. */
  maxTotalBytes: number;
  /** Uncompressed over compressed size of an entry larger than ratioFloorBytes: past it, a zip bomb. */
  maxCompressionRatio: number;
  /** Entries smaller than this are not held to the ratio (a small file of zeros compresses very well and is harmless). */
  ratioFloorBytes: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxArchiveBytes: 2048 * MiB,
  maxEntries: 100_000,
  maxEntryBytes: 64 * MiB,
  maxTotalBytes: 8192 * MiB,
  maxCompressionRatio: 100,
  ratioFloorBytes: MiB,
};

/** An entry as the caller sees it: a safe relative path (forward slashes) and its sizes. */
export interface ZipEntryInfo {
  path: string;
  size: number;
  compressedSize: number;
}

/** Reads an entry's bytes, at most maxBytes (more is an error: the caller does not want it whole). */
export type ReadEntry = (maxBytes: number) => Promise<Buffer>;

const describe = (bytes: number) => (bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : `${bytes} bytes`);

/** The reason a name is unsafe to use as a path, or null. yauzl's own check plus what it leaves (NUL, empty parts). */
function unsafePath(name: string): string | null {
  const reason = yauzl.validateFileName(name);
  if (reason) return reason.startsWith('absolute') ? 'an absolute path' : 'a path leaving the archive ("..")';
  if (name.includes('\0')) return 'a NUL character in its name';
  return null;
}

/**
 * Opens a ZIP (a file path, read by offset as needed, or bytes) and calls `visit` for each file entry in order,
 * streamed: nothing is inflated unless the visitor reads it, and then at most what it asks for. Refuses, with
 * ArchiveError, an archive that is not a ZIP (ARCHIVE_INVALID), one past the limits (ARCHIVE_TOO_LARGE), and entries
 * with an absolute or "..", path, a compression ratio of a zip bomb, or more data than they declare (ARCHIVE_UNSAFE).
 */
export async function readZip(
  source: string | Buffer,
  limits: ZipLimits,
  visit: (entry: ZipEntryInfo, read: ReadEntry) => Promise<void>,
): Promise<void> {
  let archiveBytes: number;
  try {
    archiveBytes = typeof source === 'string' ? (await stat(source)).size : source.byteLength;
  } catch (cause) {
    throw new ArchiveError('ARCHIVE_INVALID', `the archive cannot be read: ${(cause as Error).message}`, {}, { cause });
  }
  if (archiveBytes > limits.maxArchiveBytes)
    throw new ArchiveError(
      'ARCHIVE_TOO_LARGE',
      `the archive is ${describe(archiveBytes)}, more than the limit of ${describe(limits.maxArchiveBytes)}`,
      { bytes: archiveBytes, limit: limits.maxArchiveBytes },
    );
  // decodeStrings off: yauzl would fail the whole read with a plain Error on an unsafe name; we name it ourselves.
  const options = { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true };
  let zip: yauzl.ZipFile;
  try {
    zip =
      typeof source === 'string'
        ? await yauzl.openPromise(source, options)
        : await yauzl.fromBufferPromise(source, options);
  } catch (cause) {
    throw new ArchiveError(
      'ARCHIVE_INVALID',
      `the file is not a readable ZIP archive: ${(cause as Error).message}`,
      {},
      { cause },
    );
  }
  try {
    if (zip.entryCount > limits.maxEntries)
      throw new ArchiveError(
        'ARCHIVE_TOO_LARGE',
        `the archive has ${zip.entryCount} entries, more than the limit of ${limits.maxEntries}`,
        { entries: zip.entryCount, limit: limits.maxEntries },
      );
    const seen = new Set<string>();
    let total = 0;
    let entries;
    try {
      entries = zip.eachEntry();
    } catch (cause) {
      throw new ArchiveError(
        'ARCHIVE_INVALID',
        `the archive cannot be read: ${(cause as Error).message}`,
        {},
        { cause },
      );
    }
    for (;;) {
      let next: IteratorResult<yauzl.Entry>;
      try {
        next = await entries.next();
      } catch (cause) {
        throw new ArchiveError('ARCHIVE_INVALID', `the archive is damaged: ${(cause as Error).message}`, {}, { cause });
      }
      if (next.done) break;
      const entry = next.value;
      const path = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
      const unsafe = unsafePath(path);
      if (unsafe)
        throw new ArchiveError('ARCHIVE_UNSAFE', `entry "${path}" has ${unsafe}; such archives are refused`, {
          entry: path,
        });
      if (path.endsWith('/')) continue; // a folder
      if (seen.has(path))
        throw new ArchiveError('ARCHIVE_INVALID', `entry "${path}" appears twice in the archive`, { entry: path });
      seen.add(path);
      const size = entry.uncompressedSize;
      if (size > limits.maxEntryBytes)
        throw new ArchiveError(
          'ARCHIVE_TOO_LARGE',
          `entry "${path}" is ${describe(size)} uncompressed, more than the limit of ${describe(limits.maxEntryBytes)}`,
          { entry: path, bytes: size, limit: limits.maxEntryBytes },
        );
      total += size;
      if (total > limits.maxTotalBytes)
        throw new ArchiveError(
          'ARCHIVE_TOO_LARGE',
          `the archive's entries are more than ${describe(limits.maxTotalBytes)} uncompressed together`,
          { limit: limits.maxTotalBytes, entry: path },
        );
      const ratio = size / Math.max(1, entry.compressedSize);
      if (size >= limits.ratioFloorBytes && ratio > limits.maxCompressionRatio)
        throw new ArchiveError(
          'ARCHIVE_UNSAFE',
          `entry "${path}" inflates ${Math.round(ratio)} times (${describe(entry.compressedSize)} to ${describe(size)}), more than the limit of ${limits.maxCompressionRatio}: a zip bomb`,
          { entry: path, ratio, limit: limits.maxCompressionRatio },
        );
      if (entry.isEncrypted())
        throw new ArchiveError('ARCHIVE_INVALID', `entry "${path}" is encrypted; send an archive without a password`, {
          entry: path,
        });
      await visit({ path, size, compressedSize: entry.compressedSize }, (maxBytes) =>
        readEntry(zip, entry, path, maxBytes),
      );
    }
  } finally {
    zip.close();
  }
}

/** Inflates one entry, stopping at maxBytes; yauzl stops one that inflates past its declared size. */
async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, path: string, maxBytes: number): Promise<Buffer> {
  if (entry.uncompressedSize > maxBytes)
    throw new ArchiveError(
      'ARCHIVE_TOO_LARGE',
      `entry "${path}" is ${describe(entry.uncompressedSize)}, more than the ${describe(maxBytes)} read for such a file`,
      { entry: path, bytes: entry.uncompressedSize, limit: maxBytes },
    );
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    const stream = await zip.openReadStreamPromise(entry);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > maxBytes) {
        stream.destroy();
        throw new Error(`more than ${maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (cause) {
    throw new ArchiveError(
      'ARCHIVE_UNSAFE',
      `entry "${path}" cannot be read as declared (${(cause as Error).message})`,
      { entry: path },
      { cause },
    );
  }
  return Buffer.concat(chunks, length);
}
