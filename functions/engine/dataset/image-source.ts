import { readFile } from 'node:fs/promises';

/** An image to read later, by name: a file here, an S3 object in the service. */
export interface ImageSource {
  /** Stable name (a path relative to the data set's folder, or an object key). */
  name: string;
  read(): Promise<Uint8Array>;
}

export const fileImage = (name: string, path: string): ImageSource => ({ name, read: () => readFile(path) });

export const memoryImage = (name: string, bytes: Uint8Array): ImageSource => ({ name, read: async () => bytes });
