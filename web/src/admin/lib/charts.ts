// ECharts options built from the API's reports; pure functions so tests can check them. Labels
// come in already translated.
import type { EChartsCoreOption } from 'echarts/core';
import type { OverviewReport, SimulationReport } from '../api/types';

const COLORS = {
  issued: '#409eff',
  redeemed: '#67c23a',
  expired: '#e6a23c',
  outstanding: '#7b61ff',
  newMembers: '#13c2c2',
  checkins: '#f56c6c',
};

function base(dates: string[]): EChartsCoreOption {
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 56, right: 24, top: 40, bottom: 32 },
    xAxis: { type: 'category', data: dates },
    yAxis: { type: 'value' },
  };
}

// Points issued, redeemed and expired per day, as bars.
export function pointsFlowOption(
  report: OverviewReport,
  labels: { issued: string; redeemed: string; expired: string },
): EChartsCoreOption {
  const days = report.days;
  return {
    ...base(days.map((day) => day.date)),
    series: [
      { name: labels.issued, type: 'bar', color: COLORS.issued, data: days.map((d) => d.issued) },
      { name: labels.redeemed, type: 'bar', color: COLORS.redeemed, data: days.map((d) => d.redeemed) },
      { name: labels.expired, type: 'bar', color: COLORS.expired, data: days.map((d) => d.expired) },
    ],
  };
}

// Outstanding points at the end of each day, as a line.
export function outstandingOption(
  report: OverviewReport,
  labels: { outstanding: string },
): EChartsCoreOption {
  const days = report.days;
  return {
    ...base(days.map((day) => day.date)),
    series: [
      {
        name: labels.outstanding,
        type: 'line',
        smooth: true,
        areaStyle: { opacity: 0.15 },
        color: COLORS.outstanding,
        data: days.map((d) => d.outstanding),
      },
    ],
  };
}

// New members and check-ins per day.
export function activityOption(
  report: OverviewReport,
  labels: { newMembers: string; checkins: string },
): EChartsCoreOption {
  const days = report.days;
  return {
    ...base(days.map((day) => day.date)),
    series: [
      { name: labels.newMembers, type: 'bar', color: COLORS.newMembers, data: days.map((d) => d.new_members) },
      { name: labels.checkins, type: 'line', color: COLORS.checkins, data: days.map((d) => d.checkins) },
    ],
  };
}

// Points by day of a back-test: the draft against what was issued; days missing on one side are 0.
export function backTestOption(
  report: SimulationReport,
  labels: { draft: string; actual: string },
): EChartsCoreOption {
  const dates = [
    ...new Set([...Object.keys(report.simulated.by_day), ...Object.keys(report.actual.by_day)]),
  ].sort();
  return {
    ...base(dates),
    dataZoom: dates.length > 60 ? [{ type: 'inside' }, { type: 'slider', bottom: 0 }] : [],
    series: [
      { name: labels.draft, type: 'line', color: COLORS.issued, data: dates.map((d) => report.simulated.by_day[d] ?? 0) },
      { name: labels.actual, type: 'line', color: COLORS.redeemed, data: dates.map((d) => report.actual.by_day[d] ?? 0) },
    ],
  };
}

// The by-rule comparison of a back-test: every rule of either side, biggest difference first.
export function backTestRows(report: SimulationReport) {
  const rules = new Set([...Object.keys(report.simulated.by_rule), ...Object.keys(report.actual.by_rule)]);
  return [...rules]
    .map((rule) => {
      const draft = report.simulated.by_rule[rule] ?? 0;
      const actual = report.actual.by_rule[rule] ?? 0;
      return { rule, draft, actual, difference: draft - actual };
    })
    .sort((a, b) => Math.abs(b.difference) - Math.abs(a.difference) || a.rule.localeCompare(b.rule));
}
