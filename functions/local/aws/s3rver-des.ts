import crypto from 'node:crypto';

/**
 * s3rver makes ListObjectsV2 continuation tokens with single DES ('des'), which OpenSSL 3 (Node 18+) no longer offers:
 * every listing of more than one page answered 500, so a restart with over 1,000 drop-folder objects could not
 * recover them. Triple DES with the key repeated three times is the same cipher as single DES, byte for byte, and
 * OpenSSL 3 still has it: 'des' alone is mapped to it, nothing else changes.
 */
export function provideSingleDes(): void {
  const c = crypto as typeof crypto & { __faultlineDes?: boolean };
  if (c.__faultlineDes) return;
  const widen = (algorithm: string, key: crypto.CipherKey): [string, crypto.CipherKey] =>
    algorithm.toLowerCase() === 'des' && Buffer.isBuffer(key) && key.length === 8
      ? ['des-ede3-cbc', Buffer.concat([key, key, key])]
      : [algorithm, key];
  const cipher = c.createCipheriv;
  const decipher = c.createDecipheriv;
  c.createCipheriv = ((algorithm: string, key: crypto.CipherKey, ...rest: unknown[]) =>
    (cipher as (...a: unknown[]) => crypto.Cipher)(...widen(algorithm, key), ...rest)) as typeof crypto.createCipheriv;
  c.createDecipheriv = ((algorithm: string, key: crypto.CipherKey, ...rest: unknown[]) =>
    (decipher as (...a: unknown[]) => crypto.Decipher)(
      ...widen(algorithm, key),
      ...rest,
    )) as typeof crypto.createDecipheriv;
  c.__faultlineDes = true;
}
