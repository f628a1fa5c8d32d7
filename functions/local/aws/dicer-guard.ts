import { createRequire } from 'node:module';

/**
 * s3rver 3.7.1 (the last release) parses presigned POST uploads with busboy 0.3, whose dicer 0.3 throws outside any
 * handler when a part's first header line is folded (starts with a space or tab): CVE-2022-24434, no fixed release.
 * One such request would kill the whole local runtime. This unfolds that line before dicer reads it, so the header
 * is parsed like any other and the upload is answered (or refused) as usual.
 */
export function guardDicer(): void {
  const fromS3rver = createRequire(createRequire(import.meta.url).resolve('s3rver'));
  const fromBusboy = createRequire(fromS3rver.resolve('busboy'));
  const HeaderParser = fromBusboy('dicer/lib/HeaderParser') as {
    prototype: { _parseHeader(this: { buffer: string }): void; __faultlineGuarded?: boolean };
  };
  const proto = HeaderParser.prototype;
  if (proto.__faultlineGuarded) return;
  const parse = proto._parseHeader;
  proto._parseHeader = function guarded(this: { buffer: string }) {
    this.buffer = this.buffer.replace(/^((?:\r\n)*)[ \t]+/, '$1');
    return parse.call(this);
  };
  proto.__faultlineGuarded = true;
}
