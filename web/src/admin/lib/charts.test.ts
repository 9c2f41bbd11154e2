import { describe, expect, it } from 'vitest';
import type { OverviewReport, SimulationReport } from '../api/types';
import { activityOption, backTestOption, backTestRows, outstandingOption, pointsFlowOption } from './charts';

const report: OverviewReport = {
  from: '2026-11-01',
  until: '2026-11-02',
  currency: 'GBP',
  days: [
    { date: '2026-11-01', issued: 100, redeemed: 40, expired: 5, outstanding: 1055, new_members: 3, checkins: 7, redemptions: 2 },
    { date: '2026-11-02', issued: 80, redeemed: 0, expired: 0, outstanding: 1135, new_members: 1, checkins: 9, redemptions: 0 },
  ],
  totals: {
    issued: 180, redeemed: 40, expired: 5, new_members: 4, checkins: 16, redemptions: 2,
    outstanding: 1135, members: 50, liability: { amount: 1135, currency: 'GBP' }, redemption_rate_bp: 2222,
  },
  top_items: [],
};

type Series = { name: string; type: string; data: number[] };

describe('dashboard charts', () => {
  it('puts issued, redeemed and expired per day in bars', () => {
    const option = pointsFlowOption(report, { issued: 'I', redeemed: 'R', expired: 'E' }) as {
      xAxis: { data: string[] };
      series: Series[];
    };
    expect(option.xAxis.data).toEqual(['2026-11-01', '2026-11-02']);
    expect(option.series.map((s) => [s.name, s.type, s.data])).toEqual([
      ['I', 'bar', [100, 80]],
      ['R', 'bar', [40, 0]],
      ['E', 'bar', [5, 0]],
    ]);
  });

  it('draws outstanding as a line and activity per day', () => {
    const line = outstandingOption(report, { outstanding: 'O' }) as { series: Series[] };
    expect(line.series[0]).toMatchObject({ type: 'line', data: [1055, 1135] });
    const activity = activityOption(report, { newMembers: 'N', checkins: 'C' }) as { series: Series[] };
    expect(activity.series.map((s) => s.data)).toEqual([[3, 1], [7, 9]]);
  });
});

describe('back-test chart', () => {
  const sim = {
    simulated: { points: 300, by_rule: { base: 100, double: 200 }, by_tier: {}, by_day: { '2026-11-02': 200, '2026-11-01': 100 } },
    actual: { points: 100, by_rule: { base: 100, old: 5 }, by_tier: {}, by_day: { '2026-11-01': 100, '2026-10-31': 5 } },
  } as unknown as SimulationReport;

  it('lines up draft and actual by day, 0 where a side has none', () => {
    const option = backTestOption(sim, { draft: 'D', actual: 'A' }) as { xAxis: { data: string[] }; series: Series[] };
    expect(option.xAxis.data).toEqual(['2026-10-31', '2026-11-01', '2026-11-02']);
    expect(option.series[0]).toMatchObject({ name: 'D', data: [0, 100, 200] });
    expect(option.series[1]).toMatchObject({ name: 'A', data: [5, 100, 0] });
  });

  it('lists every rule with its difference, biggest first', () => {
    expect(backTestRows(sim)).toEqual([
      { rule: 'double', draft: 200, actual: 0, difference: 200 },
      { rule: 'old', draft: 0, actual: 5, difference: -5 },
      { rule: 'base', draft: 100, actual: 100, difference: 0 },
    ]);
  });
});
