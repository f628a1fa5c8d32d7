import { mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CreateTableCommandInput,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { closeDynaliteIterators } from './dynalite-iterators.ts';
import { withDynaliteStore, withTransactWrites } from './dynalite-transactions.ts';
import { closeServer, listen, reservePort } from '../listen.ts';
import { type RequestListener, signedJsonRequests } from './stand-in-auth.ts';
import type { AwsCredentials } from './stand-in-credentials.ts';

/** DynamoDB on one machine: dynalite over a LevelDB folder, so items outlive a restart. */

export interface DynamoDbStandIn {
  port: number;
  stop(): Promise<void>;
}

// dynalite's own limit (DynamoDB's request size).
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

export async function startDynamoDbStandIn(o: {
  path: string;
  host: string;
  port: number;
  credentials: AwsCredentials;
  log(line: Record<string, unknown>): void;
}): Promise<DynamoDbStandIn> {
  const what = 'DynamoDB stand-in (dynalite)';
  closeDynaliteIterators();
  // dynalite opens its LevelDB folder when made, and only closes it from a server that listened: check the port first.
  const port = await reservePort(o.port, o.host, what);
  await mkdir(o.path, { recursive: true });
  // Tables are ACTIVE at once: there is no provisioning to wait for on one machine.
  const { made: server, store } = withDynaliteStore(() =>
    dynalite({ path: o.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }),
  );
  // dynalite takes any signature: its listener goes behind DynamoDB's check of ours.
  const [answer] = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on(
    'request',
    signedJsonRequests(withTransactWrites(answer!, store), {
      credentials: o.credentials,
      log: o.log,
      service: 'dynamodb',
      maxBodyBytes: MAX_REQUEST_BYTES,
    }),
  );
  await listen(server, port, o.host, what);
  server.on('error', (error) =>
    o.log({ level: 'error', msg: 'DynamoDB stand-in server error', error: error.stack ?? String(error) }),
  );
  return { port, stop: () => closeServer(server) };
}

const isActive = (table: TableDescription | undefined): boolean =>
  table?.TableStatus === 'ACTIVE' &&
  (table.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');

/**
 * Creates each table that does not exist yet and waits until all are ACTIVE. An existing table is kept as it is, even
 * when its definition has changed since: its items are the point of keeping the data folder.
 */
export async function ensureTables(client: DynamoDBClient, tables: CreateTableCommandInput[]): Promise<void> {
  for (const table of tables) {
    const name = table.TableName as string;
    const describe = () => client.send(new DescribeTableCommand({ TableName: name }));
    let description = await describe().then(
      (r) => r.Table,
      (error: Error & { $fault?: string }) => {
        if (error.name === 'ResourceNotFoundException') return undefined;
        throw new Error(`DynamoDB stand-in: cannot read table ${name}: ${error.message}`, { cause: error });
      },
    );
    if (!description) {
      description = await client.send(new CreateTableCommand(table)).then(
        (r) => r.TableDescription,
        (error: Error) => {
          if (error.name === 'ResourceInUseException') return undefined; // made meanwhile by someone else
          throw new Error(`DynamoDB stand-in: cannot create table ${name}: ${error.message}`, { cause: error });
        },
      );
    }
    for (let waited = 0; !isActive(description); waited += 20) {
      if (waited > 10_000) throw new Error(`DynamoDB stand-in: table ${name} did not become ACTIVE`);
      await sleep(20);
      description = (await describe()).Table;
    }
  }
}
