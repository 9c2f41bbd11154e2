import type { Page } from '@/shared/api';
import { api, path } from './client';
import type { Balance, Coupon, Lot, Member, MemberTier, Order, Transaction } from './types';

export interface MemberQuery {
  q?: string;
  external_id?: string;
}

export const listMembers = (query: MemberQuery, cursor: string | null, limit: number) =>
  api.get<Page<Member>>('/v1/members', { ...query, cursor, limit });
export const getMember = (id: number) => api.get<Member>(path('/v1/members/{id}', id));
export const getBalance = (id: number) => api.get<Balance>(path('/v1/members/{id}/balance', id));
export const listLots = (id: number, cursor: string | null, limit: number) =>
  api.get<Page<Lot>>(path('/v1/members/{id}/lots', id), { cursor, limit });
export const listTransactions = (id: number, cursor: string | null, limit: number) =>
  api.get<Page<Transaction>>(path('/v1/members/{id}/transactions', id), { cursor, limit });
export const getTier = (id: number) => api.get<MemberTier>(path('/v1/members/{id}/tier', id));
export const setTier = (id: number, tier: string, reason: string, idempotencyKey: string) =>
  api.post<MemberTier>(path('/v1/members/{id}/tier', id), { tier, reason }, idempotencyKey);
export const adjustPoints = (id: number, points: number, reason: string, idempotencyKey: string) =>
  api.post<{ transaction_id: number; points: number }>(
    path('/v1/members/{id}/adjustments', id),
    { points, reason },
    idempotencyKey,
  );
export const setFrozen = (id: number, frozen: boolean, reason: string, idempotencyKey: string) =>
  api.post<unknown>(
    path(frozen ? '/v1/members/{id}/freeze' : '/v1/members/{id}/unfreeze', id),
    { reason },
    idempotencyKey,
  );
export const listMemberOrders = (id: number, cursor: string | null, limit: number) =>
  api.get<Page<Order>>('/v1/redemptions', { member_id: id, cursor, limit });
export const listMemberCoupons = (id: number, cursor: string | null, limit: number) =>
  api.get<Page<Coupon>>(path('/v1/members/{id}/coupons', id), { cursor, limit });
