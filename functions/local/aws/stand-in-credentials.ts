import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AwsCredentials } from '../../service/adapters/dynamodb-client.ts';

/**
 * The local stand-ins' one AWS access key: made at first start, kept in DATA_DIR/aws-credentials (readable by this
 * user only, as the API key) and taken again at every later start. The file is in the AWS CLI's credentials format,
 * so `AWS_SHARED_CREDENTIALS_FILE=DATA_DIR/aws-credentials aws ...` signs with it.
 */

export type { AwsCredentials };

export const CREDENTIALS_FILE = 'aws-credentials';

const parse = (text: string): AwsCredentials | undefined => {
  const value = (name: string) => text.match(new RegExp(`^\\s*${name}\\s*=\\s*(\\S+)\\s*$`, 'm'))?.[1];
  const accessKeyId = value('aws_access_key_id');
  const secretAccessKey = value('aws_secret_access_key');
  return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined;
};

/** The credentials kept in dataDir; undefined when there are none (yet). */
export async function readStandInCredentials(dataDir: string): Promise<AwsCredentials | undefined> {
  const text = await readFile(join(dataDir, CREDENTIALS_FILE), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  return text === undefined ? undefined : parse(text);
}

/** The credentials kept in dataDir, made (0600) when there are none. */
export async function standInCredentials(dataDir: string): Promise<AwsCredentials> {
  const file = join(dataDir, CREDENTIALS_FILE);
  const kept = await readStandInCredentials(dataDir);
  if (kept) {
    // A copy restored from a backup may have lost its mode; the secret opens every object and item.
    await chmod(file, 0o600);
    return kept;
  }
  // Shaped like AWS's own (20 upper-case characters; 40 for the secret) so that tools that check the shape take them.
  const made = {
    accessKeyId: `AKIA${randomBytes(10).toString('hex').toUpperCase().slice(0, 16)}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  await writeFile(
    file,
    `[default]\naws_access_key_id = ${made.accessKeyId}\naws_secret_access_key = ${made.secretAccessKey}\n`,
    { mode: 0o600 },
  );
  await chmod(file, 0o600); // writeFile's mode applies to a new file only, and under the umask
  return made;
}
