import { describe, expect, it } from 'vitest';
import { Batches } from '../../src/delivery/batches.js';

/** A write that records its batches and finishes when told to. */
function held() {
  const batches: number[][] = [];
  const finish: ((error?: Error) => void)[] = [];
  const write = (items: readonly number[]) =>
    new Promise<void>((resolve, reject) => {
      batches.push([...items]);
      finish.push((error) => (error ? reject(error) : resolve()));
    });
  return { batches, finish, write };
}

describe('group commit (Batches)', () => {
  it('writes a lone arrival at once, and everything that arrives meanwhile together in the next write', async () => {
    const { batches, finish, write } = held();
    const batchesOf = new Batches<number>(write);
    const first = batchesOf.add([1]);
    expect(batches).toEqual([[1]]);
    const second = batchesOf.add([2, 3]);
    const third = batchesOf.add([4]);
    expect(batches, 'nothing more is written while the first write runs').toEqual([[1]]);
    finish[0]?.();
    await first;
    await Promise.resolve();
    expect(batches).toEqual([[1], [2, 3, 4]]);
    finish[1]?.();
    await Promise.all([second, third]);
    const fourth = batchesOf.add([5]);
    expect(batches, 'idle again: a new arrival is written at once').toEqual([[1], [2, 3, 4], [5]]);
    finish[2]?.();
    await fourth;
  });

  it('fails exactly the arrivals of a failed write; the next batch is written all the same', async () => {
    const { batches, finish, write } = held();
    const batchesOf = new Batches<number>(write);
    const first = batchesOf.add([1]);
    const second = batchesOf.add([2]);
    const third = batchesOf.add([3]);
    finish[0]?.();
    await first;
    await Promise.resolve();
    finish[1]?.(new Error('database down'));
    await expect(second).rejects.toThrow('database down');
    await expect(third).rejects.toThrow('database down');
    const fourth = batchesOf.add([4]);
    finish[2]?.();
    await fourth;
    expect(batches).toEqual([[1], [2, 3], [4]]);
  });
});
