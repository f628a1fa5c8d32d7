import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { RequestListener } from './stand-in-auth.ts';

/**
 * TransactWriteItems for the local DynamoDB stand-in. dynalite 4.0 has no transactions, and the service writes a
 * detection's result in one with a check that its project is live (store/result-repository.ts). This runs them on
 * dynalite's own store, with dynalite's own validation, condition evaluation, index upkeep and per-item locks: every
 * item of the transaction is locked (dynalite's PutItem, UpdateItem and DeleteItem take the same locks), all
 * conditions are checked, then all writes are made, so no other write lands in between, as in DynamoDB.
 * Limits (answered as ValidationException): Put, Delete and ConditionCheck only (no Update), at most 100 items, one
 * operation per item; ClientRequestToken is accepted but not remembered (no idempotency window), and no consumed
 * capacity or item collection metrics are returned.
 */

type Item = Record<string, unknown>;
type Callback<T> = (error: (Error & { name?: string }) | null, value?: T) => void;
interface ItemDb {
  lock(keys: string[], exec: (releaser: (done: () => void) => () => void) => void): void;
  get(key: string, cb: Callback<Item>): void;
  put(key: string, item: Item, cb: Callback<void>): void;
  del(key: string, cb: Callback<void>): void;
}
/** The store dynalite's server answers from (db/index.js create()). */
export interface DynaliteStore {
  getTable(name: string, cb: Callback<Item>): void;
  getItemDb(name: string): ItemDb;
}
interface ServiceError extends Error {
  statusCode: number;
  body: Record<string, unknown>;
}
type Validation = { types: unknown; custom?: unknown };

const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
const db = fromDynalite('./db') as {
  create(options: unknown): DynaliteStore;
  createKey(item: Item, table: Item): string;
  validateItem(item: Item, table: Item): ServiceError | null | undefined;
  validateKey(key: Item, table: Item): ServiceError | null | undefined;
  checkConditional(data: Item, existing: Item | undefined): ServiceError | null | undefined;
  updateIndexes(
    store: DynaliteStore,
    table: Item,
    existing: Item | undefined,
    item: Item | null,
    cb: Callback<void>,
  ): void;
  validationError(message: string): ServiceError;
};
const validations = fromDynalite('./validations') as {
  checkTypes(data: unknown, types: unknown): Item;
  checkValidations(data: Item, types: unknown, custom: unknown, store: DynaliteStore): void;
};
// A ConditionCheck has a DeleteItem's shape (table, key, condition), so it is validated as one.
const VALIDATION: Record<'Put' | 'Delete' | 'ConditionCheck', Validation> = {
  Put: fromDynalite('./validations/putItem') as Validation,
  Delete: fromDynalite('./validations/deleteItem') as Validation,
  ConditionCheck: fromDynalite('./validations/deleteItem') as Validation,
};
const crc32 = fromDynalite('buffer-crc32') as { unsigned(text: string): number };
const MAX_ITEMS = 100;
export const TRANSACT_WRITE_TARGET = 'DynamoDB_20120810.TransactWriteItems';

/** Makes dynalite's server with `make` and keeps the store it answers from. */
export function withDynaliteStore<T>(make: () => T): { made: T; store: DynaliteStore } {
  const create = db.create;
  let store: DynaliteStore | undefined;
  db.create = (options) => (store = create(options));
  try {
    const made = make();
    if (!store) throw new Error('dynalite made no store');
    return { made, store };
  } finally {
    db.create = create;
  }
}

const call = <T>(f: (cb: Callback<T>) => void): Promise<T> =>
  new Promise((resolve, reject) => f((error, value) => (error ? reject(error) : resolve(value as T))));

const failure = (message: string): ServiceError => db.validationError(message);

interface Operation {
  kind: keyof typeof VALIDATION;
  data: Item;
  table: Item;
  tableName: string;
  key: string;
}

async function parse(store: DynaliteStore, input: unknown): Promise<Operation[]> {
  const items = (input as { TransactItems?: unknown })?.TransactItems;
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_ITEMS)
    throw failure(`TransactItems must hold 1 to ${MAX_ITEMS} items`);
  const ops: Operation[] = [];
  for (const entry of items as Item[]) {
    const kinds = Object.keys(entry ?? {});
    const kind = kinds[0] as Operation['kind'];
    if (kinds.length !== 1 || !(kind in VALIDATION))
      throw failure(
        `each TransactItem is one of Put, Delete or ConditionCheck (the local stand-in runs no Update; got ${kinds.join(', ') || 'none'})`,
      );
    const validation = VALIDATION[kind];
    const data = validations.checkTypes(entry[kind], validation.types);
    validations.checkValidations(data, validation.types, validation.custom, store);
    if (kind === 'ConditionCheck' && !data.ConditionExpression)
      throw failure('a ConditionCheck needs a ConditionExpression');
    const tableName = data.TableName as string;
    const table = await call<Item>((cb) => store.getTable(tableName, cb));
    const invalid =
      kind === 'Put' ? db.validateItem(data.Item as Item, table) : db.validateKey(data.Key as Item, table);
    if (invalid) throw invalid;
    const key = db.createKey((kind === 'Put' ? data.Item : data.Key) as Item, table);
    if (ops.some((op) => op.tableName === tableName && op.key === key))
      throw failure('Transaction request cannot include multiple operations on one item');
    ops.push({ kind, data, table, tableName, key });
  }
  return ops;
}

/** Runs one TransactWriteItems request: all of it or, when a condition fails, none (TransactionCanceledException). */
export async function transactWrite(store: DynaliteStore, input: unknown): Promise<Item> {
  const ops = await parse(store, input);
  // The items' locks, table by table in name order, so that two transactions never hold what the other waits for.
  const tables = [...new Set(ops.map((op) => op.tableName))].sort();
  const releases: Array<() => void> = [];
  try {
    for (const name of tables) {
      // In key order too: two transactions over the same items take their locks in the same order.
      const keys = ops
        .filter((op) => op.tableName === name)
        .map((op) => op.key)
        .sort();
      releases.push(
        await new Promise<() => void>((resolve) =>
          store.getItemDb(name).lock(keys, (releaser) => resolve(releaser(() => {}))),
        ),
      );
    }
    const existing = await Promise.all(
      ops.map((op) =>
        call<Item | undefined>((cb) =>
          store.getItemDb(op.tableName).get(op.key, (error, item) => {
            if (error && error.name !== 'NotFoundError') return cb(error);
            cb(null, error ? undefined : item);
          }),
        ),
      ),
    );
    const reasons = ops.map((op, i) =>
      db.checkConditional(op.data, existing[i])
        ? { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' }
        : { Code: 'None' },
    );
    if (reasons.some((r) => r.Code !== 'None')) {
      const error = new Error('transaction cancelled') as ServiceError;
      error.statusCode = 400;
      error.body = {
        __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
        message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
        CancellationReasons: reasons,
      };
      throw error;
    }
    for (const [i, op] of ops.entries()) {
      if (op.kind === 'ConditionCheck') continue;
      const item = op.kind === 'Put' ? (op.data.Item as Item) : null;
      const itemDb = store.getItemDb(op.tableName);
      await call<void>((cb) => db.updateIndexes(store, op.table, existing[i], item, cb));
      await call<void>((cb) => (item ? itemDb.put(op.key, item, cb) : itemDb.del(op.key, cb)));
    }
    return {};
  } finally {
    for (const release of releases) release();
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amz-crc32': crc32.unsigned(text),
    'x-amzn-requestid': randomBytes(39).toString('base64').replace(/[+/]/g, '0').toUpperCase(),
  });
  res.end(text);
}

/** dynalite's listener with TransactWriteItems answered here (the guard in front has checked the signature and size). */
export function withTransactWrites(answer: RequestListener, store: DynaliteStore): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || req.headers['x-amz-target'] !== TRANSACT_WRITE_TARGET) return answer(req, res);
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      let input: unknown;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(res, 400, { __type: 'com.amazon.coral.service#SerializationException' });
      }
      send(res, 200, await transactWrite(store, input));
    })().catch((error: Partial<ServiceError>) => {
      if (res.headersSent) return void res.end();
      if (error.statusCode && error.body) return send(res, error.statusCode, error.body);
      send(res, 500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: String(error) });
    });
  };
}
