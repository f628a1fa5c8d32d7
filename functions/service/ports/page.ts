/** One page of a listing and the cursor to the next (null at the end); cursors are opaque and signed (store/page-cursor.ts). */
export interface Page<T> {
  items: T[];
  cursor: string | null;
}
