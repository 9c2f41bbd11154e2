import type { Page } from '@/shared/api';
import { api, path } from './client';
import type { Order, OrderState } from './types';

export const listOrders = (state: OrderState | '', cursor: string | null, limit: number) =>
  api.get<Page<Order>>('/v1/redemptions', { state, cursor, limit });
export const getOrder = (id: string) => api.get<Order>(path('/v1/redemptions/{id}', id));

// The steps an operator takes on an order, and the body each one sends.
export type OrderStep = 'payment' | 'confirm' | 'fulfil' | 'ship' | 'deliver' | 'cancel' | 'fail';

// Each step takes an Idempotency-Key; a retry of the same step sends the same key.
export const orderStep = (
  id: string,
  step: OrderStep,
  body: Record<string, string>,
  idempotencyKey: string,
) => api.post<Order>(path('/v1/redemptions/{id}/{step}', id, step), body, idempotencyKey);

// Which steps an order in a state can take (docs/mall.md, the order life cycle).
export function stepsFor(state: OrderState): OrderStep[] {
  switch (state) {
    case 'awaiting_payment':
      return ['payment', 'cancel'];
    case 'reserved':
      return ['confirm', 'cancel'];
    case 'confirmed':
      return ['fulfil', 'cancel', 'fail'];
    case 'fulfilled':
      return ['ship', 'deliver', 'cancel', 'fail'];
    case 'shipped':
      return ['deliver', 'fail'];
    default:
      return [];
  }
}
