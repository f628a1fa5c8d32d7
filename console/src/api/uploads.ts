import { api, call, type Schemas } from './client.ts';
import { errorMessage } from './errors.ts';

type ImageType = Schemas['UploadRequest']['files'][number]['contentType'];

/** Types the API accepts for training images (the presigned POST is limited to the declared one). */
export const ACCEPTED_TYPES: Record<string, ImageType> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  bmp: 'image/bmp',
  gif: 'image/gif',
  avif: 'image/avif',
};
export const ACCEPT_ATTRIBUTE = [...new Set(Object.values(ACCEPTED_TYPES))].join(',');
/** The service's defaults: FAULTLINE_MAX_IMAGE_BYTES and FAULTLINE_MAX_FILES. */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
const PRESIGN_BATCH = 50;
const PARALLEL_UPLOADS = 3;

export type UploadStatus = 'waiting' | 'uploading' | 'checking' | 'done' | 'rejected';

export interface UploadItem {
  id: number;
  name: string;
  size: number;
  status: UploadStatus;
  /** 0..1 while uploading. */
  progress: number;
  /** Why it was rejected. */
  message?: string;
  key?: string;
}

/** The image type of a file by its declared type or, when the browser gives none, its extension. */
export function imageType(file: File): ImageType | undefined {
  const declared = Object.values(ACCEPTED_TYPES).find((t) => t === file.type);
  if (declared) return declared;
  if (file.type && file.type !== 'application/octet-stream') return undefined;
  return ACCEPTED_TYPES[file.name.split('.').pop()?.toLowerCase() ?? ''];
}

/** Why a file cannot be uploaded before anything is sent, or undefined when it can. */
export function checkFile(file: File): string | undefined {
  if (!imageType(file))
    return `not an image the service accepts (${file.type || 'unknown type'}); use JPEG, PNG, WebP, TIFF, BMP, GIF or AVIF`;
  if (file.size === 0) return 'the file is empty';
  if (file.size > MAX_IMAGE_BYTES)
    return `too large (${(file.size / 1048576).toFixed(1)} MB; the limit is ${MAX_IMAGE_BYTES / 1048576} MB)`;
  return undefined;
}

/** One presigned POST with XMLHttpRequest, for its upload progress events. */
function postFile(
  url: string,
  fields: Record<string, string>,
  file: File,
  onProgress: (fraction: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append('file', file);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () =>
      xhr.status >= 200 && xhr.status < 300
        ? resolve()
        : reject(new Error(`storage refused the upload (HTTP ${xhr.status})`));
    xhr.onerror = () => reject(new Error('the upload failed (network error)'));
    xhr.send(form);
  });
}

/** Runs `work` over the items, `parallel` at a time. */
async function inParallel<T>(items: T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(parallel, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

/**
 * Uploads normal images: files the service would refuse are rejected at once with the reason; the others get
 * presigned POSTs (50 per request) and go straight to storage, three at a time, reporting progress. Each change
 * is passed to `update`. Returns the keys stored, for the caller to check that the service registered them.
 */
export async function uploadImages(
  projectId: string,
  files: File[],
  items: UploadItem[],
  update: (item: UploadItem) => void,
): Promise<UploadItem[]> {
  const set = (item: UploadItem, change: Partial<UploadItem>) => update(Object.assign(item, change));
  const sendable: { file: File; item: UploadItem }[] = [];
  files.forEach((file, i) => {
    const problem = checkFile(file);
    if (problem) set(items[i], { status: 'rejected', message: problem });
    else sendable.push({ file, item: items[i] });
  });
  for (let start = 0; start < sendable.length; start += PRESIGN_BATCH) {
    const batch = sendable.slice(start, start + PRESIGN_BATCH);
    let uploads;
    try {
      ({ uploads } = await call(
        api().POST('/api/v1/projects/{projectId}/uploads', {
          params: { path: { projectId } },
          body: {
            files: batch.map(({ file }) => ({ name: file.name, contentType: imageType(file)!, size: file.size })),
          },
        }),
      ));
    } catch (error) {
      for (const { item } of batch) set(item, { status: 'rejected', message: errorMessage(error) });
      continue;
    }
    await inParallel(
      batch.map((b, i) => ({ ...b, upload: uploads[i] })),
      PARALLEL_UPLOADS,
      async ({ file, item, upload }) => {
        set(item, { status: 'uploading', progress: 0, key: upload.key });
        try {
          await postFile(upload.url, upload.fields, file, (progress) => set(item, { progress }));
          set(item, { status: 'checking', progress: 1 });
        } catch (error) {
          set(item, { status: 'rejected', message: errorMessage(error) });
        }
      },
    );
  }
  return items.filter((i) => i.status === 'checking');
}

/** The keys of all the project's registered images. */
async function registeredKeys(projectId: string): Promise<Set<string>> {
  const keys = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await call(
      api().GET('/api/v1/projects/{projectId}/images', {
        params: { path: { projectId }, query: { limit: 100, cursor } },
      }),
    );
    for (const image of page.items) keys.add(image.key);
    cursor = page.cursor ?? undefined;
  } while (cursor);
  return keys;
}

/**
 * The service registers an uploaded object once it has read it as an image. Waits until every stored upload is
 * registered, or until nothing has changed for a few seconds; those still missing then are images the service
 * could not read, and are marked rejected.
 */
export async function confirmRegistered(
  projectId: string,
  stored: UploadItem[],
  update: (item: UploadItem) => void,
  quietMs = 4000,
): Promise<void> {
  let waiting = stored;
  let lastChange = Date.now();
  while (waiting.length) {
    const keys = await registeredKeys(projectId);
    const still = waiting.filter((item) => !keys.has(item.key!));
    for (const item of waiting) if (!still.includes(item)) update(Object.assign(item, { status: 'done' as const }));
    if (still.length < waiting.length) lastChange = Date.now();
    waiting = still;
    if (!waiting.length || Date.now() - lastChange > quietMs) break;
    await new Promise((r) => setTimeout(r, 700));
  }
  for (const item of waiting)
    update(
      Object.assign(item, {
        status: 'rejected' as const,
        message: 'the service could not read it as an image (damaged or not really an image)',
      }),
    );
}
