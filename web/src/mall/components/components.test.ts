import { describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import type { Balance, MemberItem, Order } from '../api';
import { plugins } from './testing';
import PointsSummary from './PointsSummary.vue';
import RedeemConfirm from './RedeemConfirm.vue';
import OrderTimeline from './OrderTimeline.vue';
import ItemStatus from './ItemStatus.vue';

const balance: Balance = {
  member_id: 1,
  available: 12345,
  pending: 200,
  frozen: 0,
  held: 1200,
  debt: 0,
  lifetime_earned: 20000,
  account_frozen: false,
  expiring: [
    { points: 300, expires_at: '2026-12-31T12:00:00Z' },
    { points: 900, expires_at: '2027-03-01T12:00:00Z' },
  ],
};

const item: MemberItem = {
  id: 'travel-mug',
  name: 'Travel mug',
  description: '',
  kind: 'physical',
  category: 'kitchen',
  brand: '',
  tags: [],
  images: [],
  points_price: 1200,
  eligible_tiers: [],
  tier_discount: true,
  active: true,
  unit_points: 1080,
  affordable: true,
  stock_left: 3,
  on_sale: true,
  needs_shipping: true,
};

describe('PointsSummary', () => {
  it('shows available, pending, held and the soonest expiry', () => {
    const text = mount(PointsSummary, { props: { balance }, ...plugins() }).text();
    expect(text).toContain('12,345');
    expect(text).toContain('200');
    expect(text).toContain('1,200');
    expect(text).toContain('300 pts expire on Dec 31, 2026');
    expect(text).not.toContain('900 pts');
  });

  it('says when nothing expires, in Chinese too', () => {
    const wrapper = mount(PointsSummary, { props: { balance: { ...balance, expiring: [] } }, ...plugins('zh-CN') });
    expect(wrapper.text()).toContain('暂无即将过期的积分');
  });
});

describe('RedeemConfirm', () => {
  it('computes the points after the redemption from the member price and quantity', async () => {
    const wrapper = mount(RedeemConfirm, { props: { item, quantity: 2, available: 5000 }, ...plugins() });
    expect(wrapper.get('[data-testid=confirm-total]').text()).toBe('2,160');
    expect(wrapper.get('[data-testid=points-now]').text()).toBe('5,000');
    expect(wrapper.get('[data-testid=points-after]').text()).toBe('2,840');
    await wrapper.get('[data-testid=confirm-redeem]').trigger('click');
    expect(wrapper.emitted('confirm')).toHaveLength(1);
  });

  it('refuses to confirm when the points do not cover the total', async () => {
    const wrapper = mount(RedeemConfirm, { props: { item, quantity: 3, available: 3000 }, ...plugins() });
    expect(wrapper.get('[data-testid=points-after]').text()).toBe('-240');
    expect(wrapper.get('[data-testid=points-short]').text()).toContain('240');
    const button = wrapper.get('[data-testid=confirm-redeem]');
    expect(button.attributes('disabled')).toBeDefined();
    await button.trigger('click');
    expect(wrapper.emitted('confirm')).toBeUndefined();
  });

  it('shows where a physical item ships', () => {
    const address = { name: 'Ada', line1: '1 Main St', city: 'London', postal_code: 'N1', country: 'GB' };
    const text = mount(RedeemConfirm, { props: { item, quantity: 1, available: 5000, address }, ...plugins() }).text();
    expect(text).toContain('Ada, 1 Main St, London, N1, GB');
  });
});

describe('OrderTimeline', () => {
  const order: Order = {
    id: 'R0123456789ABC',
    member_id: 1,
    item: { id: 'travel-mug', name: 'Travel mug', kind: 'physical' },
    quantity: 1,
    unit_points: 1200,
    points: 1200,
    cash: null,
    state: 'shipped',
    shipping_address: null,
    carrier: 'Royal Mail',
    tracking_number: 'RM123456GB',
    coupon_codes: [],
    tier: null,
    created_at: '2026-11-20T10:00:00Z',
    hold_expires_at: null,
    history: [
      { state: 'reserved', at: '2026-11-20T10:00:00Z', actor: 'member:1', note: null },
      { state: 'confirmed', at: '2026-11-20T11:00:00Z', actor: 'api-key:shop', note: 'paid' },
      { state: 'shipped', at: '2026-11-21T09:00:00Z', actor: 'api-key:shop', note: 'Royal Mail RM123456GB' },
    ],
  };

  it('lists the states newest first with the carrier and tracking number', () => {
    const wrapper = mount(OrderTimeline, { props: { order }, ...plugins() });
    const states = wrapper.findAll('[data-testid=timeline-state]').map((node) => node.text());
    expect(states).toEqual(['Shipped', 'Confirmed', 'Points held']);
    expect(wrapper.text()).toContain('Shipped with Royal Mail, tracking RM123456GB');
    expect(wrapper.text()).toContain('paid');
  });

  it('names the states in Chinese', () => {
    const wrapper = mount(OrderTimeline, { props: { order }, ...plugins('zh-CN') });
    expect(wrapper.findAll('[data-testid=timeline-state]').map((node) => node.text())).toEqual(['已发货', '已确认', '积分已冻结']);
  });
});

describe('ItemStatus', () => {
  it('says how many are left, sold out, or when the sale starts', () => {
    const few = mount(ItemStatus, { props: { item }, ...plugins() });
    expect(few.text()).toBe('Only 3 left');
    const none = mount(ItemStatus, { props: { item: { ...item, stock_left: 0 } }, ...plugins() });
    expect(none.text()).toBe('Sold out');
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-11-23T12:00:00Z'));
    const later = mount(ItemStatus, {
      props: { item: { ...item, on_sale: false, window: { from: '2026-12-01T09:00:00Z' } } },
      ...plugins(),
    });
    expect(later.text()).toBe('On sale from Dec 1, 2026');
    vi.useRealTimers();
  });
});
