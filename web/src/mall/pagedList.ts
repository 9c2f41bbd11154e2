import { ref, type Ref } from 'vue';
import type { Page } from '@/shared/api';

// A list of the API's pages that grows as the member scrolls (bind `loadingMore`, `finished`
// and `loadMore` to Vant's van-list): `load` fetches the first page again (on mount, on retry,
// on a change of filter), `loadMore` the page after the last cursor. `fetchPage(null)` is the first
// page. A failure of either lands in `error` for PageState to show with a retry.
export function usePagedList<T>(fetchPage: (cursor: string | null) => Promise<Page<T>>) {
  const items = ref<T[]>([]) as Ref<T[]>;
  const cursor = ref<string | null>(null);
  const loading = ref(true);
  const loadingMore = ref(false);
  const finished = ref(false);
  const error = ref<unknown>(null);

  function take(page: Page<T>, append: boolean): void {
    items.value = append ? [...items.value, ...page.data] : page.data;
    cursor.value = page.next_cursor;
    finished.value = !page.next_cursor;
  }

  async function load(): Promise<void> {
    loading.value = true;
    error.value = null;
    try {
      take(await fetchPage(null), false);
    } catch (cause) {
      error.value = cause;
    } finally {
      loading.value = false;
    }
  }

  async function loadMore(): Promise<void> {
    try {
      if (!cursor.value) {
        finished.value = true;
        return;
      }
      take(await fetchPage(cursor.value), true);
    } catch (cause) {
      error.value = cause;
    } finally {
      loadingMore.value = false;
    }
  }

  return { items, loading, loadingMore, finished, error, load, loadMore };
}
