// What a member can do with an item now, from the fields of MemberItem: whether it can be
// redeemed and the one line that says why not (or how many are left).
import type { MemberItem } from './api';

export const FEW_LEFT = 5;

export type Availability =
  | { key: 'notYet'; date: string }
  | { key: 'ended' }
  | { key: 'notOnSale' }
  | { key: 'soldOut' }
  | { key: 'stockLeft'; n: number }
  | { key: 'inStock'; n: number }
  | { key: 'unlimited' };

export function availability(item: MemberItem, now: number = Date.now()): Availability {
  if (!item.on_sale) {
    if (item.window?.from && Date.parse(item.window.from) > now) {
      return { key: 'notYet', date: item.window.from };
    }
    if (item.window?.until && Date.parse(item.window.until) <= now) return { key: 'ended' };
    return { key: 'notOnSale' };
  }
  if (item.stock_left === null) return { key: 'unlimited' };
  if (item.stock_left === 0) return { key: 'soldOut' };
  if (item.stock_left <= FEW_LEFT) return { key: 'stockLeft', n: item.stock_left };
  return { key: 'inStock', n: item.stock_left };
}

export function canRedeem(item: MemberItem, now: number = Date.now()): boolean {
  const state = availability(item, now).key;
  return state !== 'notYet' && state !== 'ended' && state !== 'notOnSale' && state !== 'soldOut';
}

// The most units one order may take: the stock left, the per-order limit, 20 for a coupon item
// and 1 for a tier upgrade (docs/openapi.yaml RedemptionQuantity).
export function maxQuantity(item: MemberItem): number {
  let most = 1000;
  if (item.kind === 'coupon') most = 20;
  if (item.kind === 'tier_upgrade') most = 1;
  if (item.limits?.per_order) most = Math.min(most, item.limits.per_order);
  if (item.stock_left !== null) most = Math.min(most, item.stock_left);
  return Math.max(1, most);
}
