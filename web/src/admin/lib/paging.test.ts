import { describe, expect, it } from 'vitest';
import { clientPaged, CursorPager, fetchAllPages, type PageAnswer } from './paging';

// A server with `total` rows numbered from 1, answering pages by cursor (the last id seen).
function server(total: number) {
  const calls: (string | null)[] = [];
  const fetchPage = async (cursor: string | null, limit: number): Promise<PageAnswer<number>> => {
    calls.push(cursor);
    const start = cursor ? Number(cursor) : 0;
    const data = Array.from({ length: Math.max(0, Math.min(limit, total - start)) }, (_, i) => start + i + 1);
    const last = data[data.length - 1];
    return { data, next_cursor: last !== undefined && last < total ? String(last) : null };
  };
  return { fetchPage, calls };
}

describe('fetchAllPages', () => {
  it('follows next_cursor to the end', async () => {
    const { fetchPage, calls } = server(250);
    const { rows, truncated } = await fetchAllPages(fetchPage);
    expect(rows).toHaveLength(250);
    expect(rows[0]).toBe(1);
    expect(rows[249]).toBe(250);
    expect(truncated).toBe(false);
    expect(calls).toEqual([null, '100', '200']);
  });

  it('stops at the cap and says so', async () => {
    const { fetchPage } = server(1000);
    const { rows, truncated } = await fetchAllPages(fetchPage, 230);
    expect(rows).toHaveLength(230);
    expect(rows[229]).toBe(230);
    expect(truncated).toBe(true);
  });

  it('treats a list without next_cursor as one page', async () => {
    const { rows, truncated } = await fetchAllPages(async () => ({ data: ['a', 'b'] }));
    expect(rows).toEqual(['a', 'b']);
    expect(truncated).toBe(false);
  });

  it('does not loop on a repeated cursor', async () => {
    const { rows } = await fetchAllPages(async () => ({ data: [1], next_cursor: 'same' }));
    expect(rows.length).toBeLessThan(5);
  });
});

describe('CursorPager', () => {
  it('moves forward with next_cursor and back to remembered cursors', async () => {
    const { fetchPage, calls } = server(45);
    const pager = new CursorPager(fetchPage, 20);
    await pager.first();
    expect(pager.rows[0]).toBe(1);
    expect(pager.hasPrevious).toBe(false);
    expect(pager.hasNext).toBe(true);
    await pager.next();
    expect(pager.pageNumber).toBe(2);
    expect(pager.rows[0]).toBe(21);
    await pager.next();
    expect(pager.rows).toEqual([41, 42, 43, 44, 45]);
    expect(pager.hasNext).toBe(false);
    await pager.next(); // nothing further
    expect(pager.pageNumber).toBe(3);
    await pager.previous();
    expect(pager.rows[0]).toBe(21);
    expect(calls).toEqual([null, '20', '40', '20']);
  });
});

describe('clientPaged', () => {
  it('pages a whole list by offset, and exports all of it', async () => {
    const list = Array.from({ length: 45 }, (_, i) => i + 1);
    const fetchPage = clientPaged(async () => ({ data: list }));
    const pager = new CursorPager(fetchPage, 20);
    await pager.first();
    expect(pager.rows).toHaveLength(20);
    await pager.next();
    await pager.next();
    expect(pager.rows).toEqual([41, 42, 43, 44, 45]);
    expect(pager.hasNext).toBe(false);
    expect((await fetchAllPages(fetchPage)).rows).toEqual(list);
  });
});
