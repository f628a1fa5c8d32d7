import type S3rver from 's3rver';
import { createRequire } from 'node:module';

type ListOptions = S3rver.ListOptions;
type ListResult = S3rver.ListResult;

/**
 * s3rver lists a bucket in the order its folders come from the disk, not in S3's key order, and cuts a page after
 * `maxKeys` of them: where a key and a "folder" share a name (results/x.json beside results/x/heatmap.png) a page ends
 * past keys the next page then skips as already listed, so listings of more than 1,000 keys lost some (a project's
 * deletion left objects behind). This lists the rest of the prefix, sorts it as S3 does and cuts the page from that.
 * Each page reads every remaining key's metadata: slower on a large prefix, but a local stand-in's listing is rare.
 */
export function listInKeyOrder(): void {
  const fromS3rver = createRequire(createRequire(import.meta.url).resolve('s3rver'));
  const FilesystemStore = fromS3rver('./stores/filesystem') as {
    prototype: { listObjects(bucket: string, o: ListOptions): Promise<ListResult>; __faultlineOrdered?: boolean };
  };
  const proto = FilesystemStore.prototype;
  if (proto.__faultlineOrdered) return;
  const list = proto.listObjects;
  proto.listObjects = async function ordered(bucket, options) {
    const maxKeys = options.maxKeys ?? Number.POSITIVE_INFINITY;
    const all = await list.call(this, bucket, { ...options, maxKeys: Number.POSITIVE_INFINITY });
    const objects = all.objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    if (objects.length <= maxKeys) return { ...all, objects };
    const page = objects.slice(0, maxKeys);
    const last = page[page.length - 1]!.key;
    return { objects: page, commonPrefixes: all.commonPrefixes.filter((p) => p <= last), isTruncated: true };
  };
  proto.__faultlineOrdered = true;
}
