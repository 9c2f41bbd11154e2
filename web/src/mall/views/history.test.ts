import { describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import type { Transaction } from '@/shared/types';
import { plugins } from '../components/testing';

const page: Transaction[] = [
  {
    id: 9,
    kind: 'event',
    points: 0,
    at: '2026-11-22T10:00:00Z',
    reference: 'redemption_shipped',
    explanation: 'order R1 shipped',
    actor: 'operator:alice',
  },
  {
    id: 8,
    kind: 'earn',
    points: 60,
    at: '2026-11-21T10:00:00Z',
    reference: '5001',
    explanation: 'purchase 5001 of 30.00 GBP: 60 points: base-rate 30, weekend-double 30',
    actor: 'api-key:shop',
    lines: [
      { rule: 'base-rate', name: '1 point per pound', kind: 'per_unit', points: 30, detail: '' },
      {
        rule: 'double',
        campaign: 'weekend',
        campaign_name: 'Double points weekend',
        name: 'Everything doubled',
        kind: 'multiplier',
        points: 30,
        detail: '',
      },
    ],
  },
  {
    id: 7,
    kind: 'earn',
    points: 15,
    at: '2026-11-20T10:00:00Z',
    reference: '',
    explanation: 'checkin: 15 points: checkin 5, streak 10',
    actor: 'member',
    lines: [
      { rule: 'checkin', kind: 'checkin', points: 5, detail: '' },
      { rule: 'retired-rule', campaign: 'old-campaign', kind: 'bonus', points: 10, detail: '' },
    ],
  },
];

vi.mock('../services', () => ({
  api: { transactions: vi.fn(async () => ({ data: page, next_cursor: null })) },
}));

// Imported after the mock, so that the view's api is the mocked one.
const { default: HistoryView } = await import('./HistoryView.vue');

describe('HistoryView', () => {
  it('names the rules and campaigns that paid, and hides lines without points until asked', async () => {
    const wrapper = mount(HistoryView, plugins());
    await flushPromises();
    const lines = wrapper.findAll('[data-testid="transaction"]');
    expect(lines).toHaveLength(2);
    expect(lines[0]!.text()).toContain('1 point per pound');
    expect(lines[0]!.text()).toContain('Everything doubled');
    expect(lines[0]!.text()).toContain('Double points weekend');
    expect(lines[0]!.text()).not.toContain('base-rate');
    // The program's own steps in words; a retired rule and campaign by their ids.
    expect(lines[1]!.text()).toContain('Daily check-in');
    expect(lines[1]!.text()).toContain('retired-rule');
    expect(lines[1]!.text()).toContain('old-campaign');

    await wrapper.get('[data-testid="history-show-all"]').trigger('click');
    const all = wrapper.findAll('[data-testid="transaction"]');
    expect(all).toHaveLength(3);
    expect(all[0]!.text()).toContain('order R1 shipped');
  });

  it('names a campaign once when its rule bears the same name', async () => {
    page[1]!.lines![1]!.name = 'Double points weekend';
    const wrapper = mount(HistoryView, plugins());
    await flushPromises();
    const text = wrapper.findAll('[data-testid="transaction"]')[0]!.text();
    expect(text.split('Double points weekend')).toHaveLength(2);
  });

  it('speaks Chinese too', async () => {
    const wrapper = mount(HistoryView, plugins('zh-CN'));
    await flushPromises();
    expect(wrapper.text()).toContain('每日签到');
    expect(wrapper.text()).toContain('显示全部记录');
  });
});
