import { api, path } from './client';
import type { ApiKey, KeyRole, Operator, OperatorRole } from './types';

export const listApiKeys = () => api.get<{ data: ApiKey[]; next_cursor: null }>('/v1/api-keys');
export const createApiKey = (name: string, role: KeyRole) =>
  api.post<ApiKey>('/v1/api-keys', { name, role });
export const revokeApiKey = (id: number) => api.delete<void>(path('/v1/api-keys/{id}', id));

export const listOperators = () =>
  api.get<{ data: Operator[]; next_cursor: null }>('/v1/operators');
export const createOperator = (name: string, role: OperatorRole, password: string) =>
  api.post<Operator>('/v1/operators', { name, role, password });
export const disableOperator = (id: number) =>
  api.post<Operator>(path('/v1/operators/{id}/disable', id), {});
