/**
 * Per-metric data of the stream consumer: the detector's saved state, guarded by a revision (conditional writes: two
 * consumers never interleave a metric, a redelivered batch changes nothing), and the points kept for charts.
 */
export interface SeriesState {
  /** The sequence number of the last stream record applied ('' before the first). */
  sequence: string;
  /** Bumped by every write; the condition of the next one. 0 = no state stored yet. */
  revision: number;
  /** JSON of the engine's DetectorState and GroupingState. */
  detector: string;
  grouping: string;
  lastTime: number;
  /** Points scored so far, and points dropped for not being after the last one. */
  scored: number;
  dropped: number;
}

export interface StoredChunk {
  time: number[];
  value: number[];
  score: number[];
}

/** One stored chunk of points (one stream record's points within one hour), as the archive job moves it to S3. */
export interface StoredChunkItem {
  hour: number;
  sequence: string;
  chunk: StoredChunk;
}

export interface SeriesStore {
  getState(metricId: string): Promise<SeriesState | undefined>;
  /** Writes the state if the stored revision is still `state.revision - 1`: false when another writer got there first. */
  putState(metricId: string, state: SeriesState): Promise<boolean>;
  /** Stores one stream record's scored points (idempotent: keyed by the record's sequence number). */
  putChunk(metricId: string, sequence: string, chunk: StoredChunk): Promise<void>;
  /** Every point with from <= time <= to, in time order. */
  pointsBetween(metricId: string, from: number, to: number): Promise<StoredChunk>;
  /** The metric's chunks of the hours before `beforeHour` (ms, a whole hour), oldest hour first. */
  chunksBefore(metricId: string, beforeHour: number): Promise<StoredChunkItem[]>;
  /** Deletes these chunks (the archive job, once their points are in S3); chunks already gone are no error. */
  deleteChunks(metricId: string, chunks: Pick<StoredChunkItem, 'hour' | 'sequence'>[]): Promise<void>;
  /**
   * Claims the archive job for `owner` until `until` (ms) when nobody holds it or the holder's claim ran out at `now`
   * (a conditional write: two runs never archive at once, and a run that died frees it by running out).
   */
  claimArchiveRun(owner: string, now: number, until: number): Promise<boolean>;
  releaseArchiveRun(owner: string): Promise<void>;
  /** The metric's state and points, when the metric is deleted. */
  deleteSeries(metricId: string): Promise<void>;
  /**
   * The local consumer's position in one shard (the last sequence number it handed on), so that a restart reads on
   * from there instead of from the oldest record. Only a shortcut: exactly-once rests on each metric's state.
   */
  getCheckpoint(stream: string, shardId: string): Promise<string | undefined>;
  putCheckpoint(stream: string, shardId: string, sequence: string): Promise<void>;
}
