/**
 * Which analyzer replica owns a task: FNV-1a of the task id, modulo the number of shards. Stable
 * across processes and versions, so a restarted replica owns the same tasks.
 */
export interface Shard {
  /** 0 ≤ index < count. */
  index: number;
  count: number;
}

export function shardOf(taskId: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < taskId.length; i++) {
    hash ^= taskId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % count;
}

export function ownsTask(shard: Shard, taskId: string): boolean {
  return shard.count <= 1 || shardOf(taskId, shard.count) === shard.index;
}

/** Parses `--shard I/N` (e.g. `0/3`); returns the shard or a problem. */
export function parseShard(text: string): Shard | string {
  const m = /^(\d{1,4})\/(\d{1,4})$/.exec(text.trim());
  if (!m) return `--shard "${text}" is not INDEX/COUNT (e.g. 0/3)`;
  const [index, count] = [Number(m[1]), Number(m[2])];
  if (count < 1 || index >= count) return `--shard "${text}": the index must be below the count (0/3, 1/3, 2/3)`;
  return { index, count };
}
