/** ZIP archives built in the tests (yazl), and byte patches for the unsafe ones yazl itself refuses to write. */
import yazl from 'yazl';

export async function buildZip(files: Record<string, string | Buffer>, compress = true): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(files))
    zip.addBuffer(typeof content === 'string' ? Buffer.from(content) : content, name, { compress });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Replaces every occurrence of a name (local header and central directory) by another of the same length. */
export function renameInZip(zip: Buffer, from: string, to: string): Buffer {
  if (from.length !== to.length) throw new Error('names must have the same length');
  const out = Buffer.from(zip);
  const needle = Buffer.from(from);
  for (let i = out.indexOf(needle); i >= 0; i = out.indexOf(needle, i + 1)) out.write(to, i);
  return out;
}

/** Sets the uncompressed size the central directory declares for every entry (a lying zip bomb). */
export function declareUncompressedSize(zip: Buffer, size: number): Buffer {
  const out = Buffer.from(zip);
  const signature = Buffer.from([0x50, 0x4b, 0x01, 0x02]);
  for (let i = out.indexOf(signature); i >= 0; i = out.indexOf(signature, i + 1)) out.writeUInt32LE(size, i + 24);
  return out;
}

export const IMAGE_BYTES = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]); // never decoded: images are listed, not read

/** A small dataset with one of each health problem. */
export const GOOD_DATASET: Record<string, string | Buffer> = {
  'data.yaml': 'path: .\ntrain: train/images\nval: val/images\nnames:\n  0: scratch\n  1: dent\n',
  'train/images/a.jpg': IMAGE_BYTES,
  'train/images/b.jpg': IMAGE_BYTES,
  'train/images/c.png': IMAGE_BYTES, // no label
  'train/labels/a.txt': '0 0.5 0.5 0.2 0.2\n1 0.3 0.3 0.05 0.05\n1 0.3 0.3 0.05 0.05\n', // one duplicate line
  'train/labels/b.txt': '', // a background image
  'train/labels/d.txt': '0 0.5 0.5 0.9 0.9\n', // no image
  'val/images/v.jpg': IMAGE_BYTES,
  'val/labels/v.txt': '1 0.5 0.5 0.4 0.4\n1 0.5 0.5 0.4\n7 0.5 0.5 0.1 0.1\n0 0.1 0.2 0.3 0.1 0.2 0.3 0.25 0.35\n',
  'README.md': 'about',
  '__MACOSX/train/images/._a.jpg': 'junk',
};
