import { describe, expect, it } from 'vitest';
import type { MemberItem, Order } from './api';
import { availability, canRedeem, maxQuantity } from './itemStatus';
import { recommend } from './recommend';
import { signedPoints } from './format';
import { errorMessage } from './errors';
import { ApiError } from '@/shared/api';
import { Attempt } from './attempt';

function item(id: string, change: Partial<MemberItem> = {}): MemberItem {
  return {
    id,
    name: id,
    description: '',
    kind: 'physical',
    category: 'misc',
    brand: '',
    tags: [],
    images: [],
    points_price: 100,
    eligible_tiers: [],
    tier_discount: true,
    active: true,
    unit_points: 100,
    affordable: true,
    stock_left: null,
    on_sale: true,
    needs_shipping: true,
    ...change,
  };
}

function order(itemId: string): Order {
  return {
    id: `R${itemId}`,
    member_id: 1,
    item: { id: itemId, name: itemId, kind: 'physical' },
    quantity: 1,
    unit_points: 100,
    points: 100,
    cash: null,
    state: 'reserved',
    shipping_address: null,
    carrier: null,
    tracking_number: null,
    coupon_codes: [],
    tier: null,
    created_at: '2026-11-20T10:00:00Z',
    hold_expires_at: null,
    history: [],
  };
}

describe('item availability', () => {
  it('tells sold out, few left and the sale window apart', () => {
    const now = Date.parse('2026-11-23T00:00:00Z');
    expect(availability(item('a', { stock_left: 0 }), now).key).toBe('soldOut');
    expect(availability(item('a', { stock_left: 2 }), now)).toEqual({ key: 'stockLeft', n: 2 });
    expect(availability(item('a', { stock_left: 50 }), now)).toEqual({ key: 'inStock', n: 50 });
    expect(availability(item('a', { on_sale: false, window: { until: '2026-11-01T00:00:00Z' } }), now).key).toBe('ended');
    expect(canRedeem(item('a', { stock_left: 0 }), now)).toBe(false);
    expect(canRedeem(item('a', { on_sale: false }), now)).toBe(false);
  });

  it('caps the quantity by stock, per-order limit and kind', () => {
    expect(maxQuantity(item('a', { stock_left: 3, limits: { per_order: 2 } }))).toBe(2);
    expect(maxQuantity(item('a', { kind: 'coupon' }))).toBe(20);
    expect(maxQuantity(item('a', { kind: 'tier_upgrade' }))).toBe(1);
  });
});

describe('recommend', () => {
  const catalog = [
    item('mug', { category: 'kitchen' }),
    item('pan', { category: 'kitchen', unit_points: 500 }),
    item('oven', { category: 'kitchen', unit_points: 50000, affordable: false }),
    item('kettle', { category: 'kitchen', stock_left: 0 }),
    item('book', { category: 'books', unit_points: 900 }),
    item('car', { category: 'cars', unit_points: 99999, affordable: false }),
  ];

  it('puts the categories of past orders first and skips ordered and sold-out items', () => {
    const ids = recommend(catalog, [order('mug')]).map((i) => i.id);
    expect(ids.slice(0, 2)).toEqual(['pan', 'oven']);
    expect(ids).not.toContain('mug');
    expect(ids).not.toContain('kettle');
  });

  it('without orders, offers affordable items first, in the order given (most popular first)', () => {
    expect(recommend(catalog, []).map((i) => i.id)).toEqual(['mug', 'pan', 'book', 'oven', 'car']);
  });
});

describe('messages', () => {
  it('signs points', () => {
    expect(signedPoints(1200, 'en')).toBe('+1,200');
    expect(signedPoints(-40, 'en')).toBe('-40');
    expect(signedPoints(0, 'en')).toBe('0');
  });

  it('names a refusal by its problem type, else a generic message', () => {
    const t = (key: string) => `T:${key}`;
    const te = (key: string) => key !== 'errors.brand_new_refusal';
    const refusal = new ApiError({ type: 'out_of_stock', title: 'x', status: 409 });
    expect(errorMessage(refusal, t, te)).toBe('T:errors.out_of_stock');
    const unknown = new ApiError({ type: 'brand_new_refusal', title: 'x', status: 409 });
    expect(errorMessage(unknown, t, te)).toBe('T:errors.generic');
    expect(errorMessage(new Error('boom'), t, te)).toBe('T:errors.generic');
  });
});

describe('Attempt (idempotency keys)', () => {
  const lost = new ApiError({ type: 'network_error', title: 'x', status: 0 });
  const refused = new ApiError({ type: 'out_of_stock', title: 'x', status: 409 });

  it('reuses the key when the same request is retried after a network error', () => {
    const attempt = new Attempt('redeem');
    const first = attempt.keyFor({ item_id: 'mug', quantity: 1 });
    attempt.settle(lost);
    expect(attempt.keyFor({ item_id: 'mug', quantity: 1 })).toBe(first);
  });

  it('takes a new key after an answer, or for a changed request', () => {
    const attempt = new Attempt('redeem');
    const first = attempt.keyFor({ item_id: 'mug', quantity: 1 });
    attempt.settle(lost);
    const changed = attempt.keyFor({ item_id: 'mug', quantity: 2 });
    expect(changed).not.toBe(first);
    attempt.settle(refused);
    const afterRefusal = attempt.keyFor({ item_id: 'mug', quantity: 2 });
    expect(afterRefusal).not.toBe(changed);
    attempt.settle();
    expect(attempt.keyFor({ item_id: 'mug', quantity: 2 })).not.toBe(afterRefusal);
    expect(afterRefusal).toMatch(/^redeem-[\x21-\x7e]+$/);
  });
});
