// Walking the API's cursor pagination (`{data, next_cursor}`, docs/api.md). Lists without
// pagination answer `{data}` only; they are one page.
import type { Page } from '@/shared/api';

export interface PageAnswer<T> {
  data: T[];
  next_cursor?: string | null;
}

export type PageFetcher<T> = (cursor: string | null, limit: number) => Promise<PageAnswer<T>>;

export const EXPORT_ROW_CAP = 10_000;
export const EXPORT_PAGE_SIZE = 100;

// Every row from the first page on, following next_cursor, at most `cap` rows. `truncated` says
// the cap cut the list short.
export async function fetchAllPages<T>(
  fetchPage: PageFetcher<T>,
  cap = EXPORT_ROW_CAP,
): Promise<{ rows: T[]; truncated: boolean }> {
  const rows: T[] = [];
  let cursor: string | null = null;
  const seen = new Set<string>();
  for (;;) {
    const page: PageAnswer<T> = await fetchPage(cursor, Math.min(EXPORT_PAGE_SIZE, cap - rows.length));
    for (const row of page.data) {
      if (rows.length >= cap) return { rows, truncated: true };
      rows.push(row);
    }
    const next = page.next_cursor ?? null;
    if (!next) return { rows, truncated: false };
    if (rows.length >= cap) return { rows, truncated: true };
    // A server answering the same cursor twice would loop forever; stop instead.
    if (seen.has(next)) return { rows, truncated: false };
    seen.add(next);
    cursor = next;
  }
}

// The pages a table has visited: page 1 has cursor null, page n+1 the next_cursor of page n.
export class CursorPager<T> {
  private cursors: (string | null)[] = [null];
  private index = 0;
  rows: T[] = [];
  nextCursor: string | null = null;

  constructor(private readonly fetchPage: PageFetcher<T>, readonly pageSize = 20) {}

  get pageNumber(): number {
    return this.index + 1;
  }
  get hasNext(): boolean {
    return this.nextCursor !== null;
  }
  get hasPrevious(): boolean {
    return this.index > 0;
  }

  private async load(): Promise<void> {
    const page = await this.fetchPage(this.cursors[this.index] ?? null, this.pageSize);
    this.rows = page.data;
    this.nextCursor = page.next_cursor ?? null;
  }

  async first(): Promise<void> {
    this.cursors = [null];
    this.index = 0;
    await this.load();
  }
  async next(): Promise<void> {
    if (this.nextCursor === null) return;
    this.cursors = this.cursors.slice(0, this.index + 1);
    this.cursors.push(this.nextCursor);
    this.index += 1;
    await this.load();
  }
  async previous(): Promise<void> {
    if (this.index === 0) return;
    this.index -= 1;
    await this.load();
  }
  async reload(): Promise<void> {
    await this.load();
  }
}

export type { Page };

// Pages over a list the API answers whole (`{data}` without a cursor: items, rules, campaigns,
// templates, keys, operators): the cursor is the offset of the next row.
export function clientPaged<T>(fetchList: () => Promise<{ data: T[] }>): PageFetcher<T> {
  return async (cursor, limit) => {
    const { data } = await fetchList();
    const start = cursor ? Number(cursor) : 0;
    const end = start + limit;
    return { data: data.slice(start, end), next_cursor: end < data.length ? String(end) : null };
  };
}
