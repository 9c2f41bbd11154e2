import { api, path } from './client';
import type { DocumentVersion, Item, ItemDocument } from './types';

export const listItems = () => api.get<{ data: Item[] }>('/v1/items');
export const createItem = (item: ItemDocument) => api.post<Item>('/v1/items', item);
export const replaceItem = (item: ItemDocument) =>
  api.put<Item>(path('/v1/items/{id}', item.id), item);
export const retireItem = (id: string) => api.delete<void>(path('/v1/items/{id}', id));
export const itemVersions = (id: string) =>
  api.get<{ data: DocumentVersion<ItemDocument>[] }>(path('/v1/items/{id}/versions', id));
