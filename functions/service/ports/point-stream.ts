/** One record on the point stream: points of one metric, in time order (partition key = metric, so order holds). */
export interface PointRecord {
  v: 1;
  projectId: string;
  metricId: string;
  /** Epoch milliseconds and values, same length. */
  t: number[];
  x: number[];
}

/** A record as the consumer gets it: with its stream sequence number (decimal digits, increasing per shard). */
export interface ReceivedPointRecord {
  sequence: string;
  record: PointRecord;
}

/** The one path to the detector: Kinesis in AWS, kinesalite locally. */
export interface PointStream {
  put(records: PointRecord[]): Promise<void>;
}
