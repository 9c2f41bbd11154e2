import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyPaths, minorUnitDigits } from '@/shared/i18n';
import en from '../locales/en';
import {
  buildTiersDocument,
  emptyTierRow,
  emptyTiersForm,
  formatMinorUnits,
  parseMinorUnits,
  tierField,
  tiersToForm,
  validateTiersForm,
  type TiersForm,
} from './tiers';

// A document as GET /v1/tiers answers it, plus fields the form does not know.
const saved = {
  measure: 'money_spent',
  currency: 'GBP',
  period: 'rolling_months',
  months: 6,
  downgrade: 'grace',
  grace_periods: 2,
  tiers: [
    {
      id: 'member',
      name: 'Member',
      threshold: 0,
      earn_percent: 100,
      validity_days: 0,
      redemption_discount_percent: 0,
      exclusive_item_tags: [],
    },
    {
      id: 'gold',
      name: 'Gold',
      threshold: 50_005,
      earn_percent: 125,
      validity_days: 730,
      redemption_discount_percent: 10,
      exclusive_item_tags: ['gold-only'],
      colour: '#d4af37',
    },
  ],
  version: 7,
  note: 'kept',
};

function form(changes: Partial<TiersForm> = {}): TiersForm {
  return { ...tiersToForm(saved)!, ...changes };
}

describe('tiers form', () => {
  it('reads a document into the form, thresholds in major units', () => {
    const read = tiersToForm(saved)!;
    expect(read).toMatchObject({ measure: 'money_spent', currency: 'GBP', months: 6, gracePeriods: 2 });
    expect(read.tiers.map((tier) => tier.threshold)).toEqual(['0.00', '500.05']);
    expect(read.tiers[1]).toMatchObject({ earnPercent: 125, validityDays: 730, discountPercent: 10, exclusiveTags: ['gold-only'] });
  });

  it('writes the document back as it was: version and unknown fields kept', () => {
    expect(buildTiersDocument(tiersToForm(saved)!, saved)).toEqual(saved);
  });

  it('fills defaults, and leaves out the settings that no longer apply', () => {
    const read = tiersToForm({ measure: 'points_earned', tiers: [{ id: 'member', name: 'Member', threshold: 0 }] })!;
    expect(read).toMatchObject({ period: 'calendar_year', months: 12, downgrade: 'recalculate', gracePeriods: 1 });
    expect(read.tiers[0]).toMatchObject({ threshold: '0', earnPercent: 100, validityDays: 0, discountPercent: 0 });

    const doc = buildTiersDocument(form({ measure: 'points_earned', period: 'calendar_month', downgrade: 'drop_one' }), saved);
    expect(doc).not.toHaveProperty('currency');
    expect(doc).not.toHaveProperty('months');
    expect(doc).not.toHaveProperty('grace_periods');
    expect(doc).toMatchObject({ period: 'calendar_month', downgrade: 'drop_one', version: 7, note: 'kept' });
  });

  it('starts a program without tiers with one tier at 0', () => {
    const doc = buildTiersDocument(emptyTiersForm(), { version: 0 });
    expect(validateTiersForm(emptyTiersForm())).toEqual({});
    expect(doc).toEqual({
      measure: 'points_earned',
      period: 'calendar_year',
      downgrade: 'recalculate',
      tiers: [
        {
          id: 'member',
          name: 'Member',
          threshold: 0,
          earn_percent: 100,
          validity_days: 0,
          redemption_discount_percent: 0,
          exclusive_item_tags: [],
        },
      ],
      version: 0,
    });
  });

  it('gives null for documents the form cannot show', () => {
    const tiers = saved.tiers;
    const cannot = [
      { ...saved, measure: 'visits' },
      { ...saved, period: 'fortnight' },
      { ...saved, downgrade: 'never' },
      { ...saved, measure: 'points_earned' }, // currency without money_spent
      { ...saved, period: 'calendar_year' }, // months without rolling_months
      { ...saved, downgrade: 'recalculate' }, // grace_periods without grace
      { ...saved, months: 40 },
      { ...saved, tiers: 'gold' },
      { ...saved, tiers: [...tiers, 'platinum'] },
      { ...saved, tiers: [{ ...tiers[0], threshold: 1.5 }] },
      { ...saved, tiers: [{ ...tiers[0], threshold: -1 }] },
      { ...saved, tiers: [{ ...tiers[0], earn_percent: 50 }] },
      { ...saved, tiers: [{ ...tiers[0], name: 7 }] },
      { ...saved, tiers: [{ ...tiers[0], exclusive_item_tags: [1] }] },
    ];
    for (const doc of cannot) expect(tiersToForm(doc), JSON.stringify(doc)).toBeNull();
    const { measure: _, ...withoutMeasure } = saved;
    expect(tiersToForm(withoutMeasure)).toBeNull();
  });
});

describe('money in minor units', () => {
  it('parses decimal text without float rounding', () => {
    expect(parseMinorUnits('500', 2)).toBe(50_000);
    expect(parseMinorUnits('500.5', 2)).toBe(50_050);
    expect(parseMinorUnits('500.05', 2)).toBe(50_005);
    expect(parseMinorUnits('0.1', 2)).toBe(10);
    expect(parseMinorUnits('1.15', 2)).toBe(115); // 1.15 * 100 is 114.99999999999999
    expect(parseMinorUnits(' 12 ', 0)).toBe(12);
    expect(parseMinorUnits('1.5', 3)).toBe(1500);
  });

  it('refuses what is not an amount', () => {
    for (const text of ['1.234', '-1', 'abc', '', '1e3', '1,000', '.5', '5.', '99999999999999999']) {
      expect(parseMinorUnits(text, 2), text).toBeNull();
    }
    expect(parseMinorUnits('1.5', 0)).toBeNull();
  });

  it('formats minor units back', () => {
    expect(formatMinorUnits(50_005, 2)).toBe('500.05');
    expect(formatMinorUnits(5, 2)).toBe('0.05');
    expect(formatMinorUnits(0, 2)).toBe('0.00');
    expect(formatMinorUnits(1234, 0)).toBe('1234');
    expect(formatMinorUnits(1234, 3)).toBe('1.234');
  });

  it('knows the decimals of a currency', () => {
    expect(minorUnitDigits('GBP')).toBe(2);
    expect(minorUnitDigits('JPY')).toBe(0);
    expect(minorUnitDigits('')).toBe(2);
  });
});

describe('tiers form checks', () => {
  const row = (changes: Partial<ReturnType<typeof emptyTierRow>>) => ({ ...emptyTierRow(), ...changes });

  it('accepts the saved document', () => {
    expect(validateTiersForm(form())).toEqual({});
  });

  it('wants the first threshold at 0, then strictly ascending', () => {
    const errors = validateTiersForm(
      form({
        tiers: [
          row({ id: 'a', name: 'A', threshold: '10' }),
          row({ id: 'b', name: 'B', threshold: '10.00' }),
          row({ id: 'c', name: 'C', threshold: '20' }),
        ],
      }),
    );
    expect(errors).toEqual({
      [tierField(0, 'threshold')]: { key: 'tiers.errors.firstThreshold' },
      [tierField(1, 'threshold')]: { key: 'tiers.errors.ascending', params: { row: 1, threshold: '10.00' } },
    });
  });

  it('names thresholds that do not parse in the unit of the measure', () => {
    const money = validateTiersForm(form({ tiers: [row({ id: 'a', name: 'A', threshold: '0.001' })] }));
    expect(money[tierField(0, 'threshold')]).toEqual({ key: 'tiers.errors.amount', params: { example: '500.00' } });
    const points = validateTiersForm(
      form({ measure: 'points_earned', tiers: [row({ id: 'a', name: 'A', threshold: '0.5' })] }),
    );
    expect(points[tierField(0, 'threshold')]).toEqual({ key: 'tiers.errors.wholeNumber' });
    const big = validateTiersForm(
      form({ measure: 'points_earned', tiers: [row({ id: 'a', name: 'A', threshold: '0' }), row({ id: 'b', name: 'B', threshold: '1000000000001' })] }),
    );
    expect(big[tierField(1, 'threshold')]?.key).toBe('tiers.errors.thresholdMax');
  });

  it('checks ids, names, ranges, currency and the number of tiers', () => {
    const errors = validateTiersForm(
      form({
        currency: 'gbp',
        months: 0,
        gracePeriods: 13,
        tiers: [
          row({ id: 'member', name: 'Member', threshold: '0', earnPercent: 99 }),
          row({ id: 'member', name: ' ', threshold: '1', validityDays: 36_501, discountPercent: 91 }),
          row({ id: 'Gold!', name: 'Gold', threshold: '2', exclusiveTags: ['x'.repeat(65)] }),
        ],
      }),
    );
    expect(errors).toEqual({
      currency: { key: 'tiers.errors.currency' },
      months: { key: 'tiers.errors.range', params: { min: 1, max: 36 } },
      grace_periods: { key: 'tiers.errors.range', params: { min: 1, max: 12 } },
      [tierField(0, 'earn_percent')]: { key: 'tiers.errors.range', params: { min: 100, max: 1000 } },
      [tierField(1, 'id')]: { key: 'tiers.errors.idRepeated', params: { row: 1 } },
      [tierField(1, 'name')]: { key: 'tiers.errors.name', params: { max: 128 } },
      [tierField(1, 'validity_days')]: { key: 'tiers.errors.range', params: { min: 0, max: 36_500 } },
      [tierField(1, 'redemption_discount_percent')]: { key: 'tiers.errors.range', params: { min: 0, max: 90 } },
      [tierField(2, 'id')]: { key: 'tiers.errors.id' },
      [tierField(2, 'exclusive_item_tags')]: { key: 'tiers.errors.tags', params: { max: 100, length: 64 } },
    });
    expect(validateTiersForm(form({ tiers: [] })).tiers).toEqual({ key: 'tiers.errors.count', params: { max: 20 } });
    const many = Array.from({ length: 21 }, (_, i) => row({ id: `t${i}`, name: `T${i}`, threshold: String(i) }));
    expect(validateTiersForm(form({ measure: 'points_earned', tiers: many })).tiers?.key).toBe('tiers.errors.count');
  });

  it('only checks the settings that apply', () => {
    const errors = validateTiersForm(
      form({
        measure: 'points_earned',
        currency: '',
        period: 'calendar_year',
        months: 0,
        downgrade: 'recalculate',
        gracePeriods: 0,
        tiers: [row({ id: 'member', name: 'Member', threshold: '0' }), row({ id: 'gold', name: 'Gold', threshold: '5000' })],
      }),
    );
    expect(errors).toEqual({});
  });

  it('has a text for every message it gives', () => {
    const known = new Set(keyPaths(en));
    const source = readFileSync(path.resolve(__dirname, 'tiers.ts'), 'utf8');
    const keys = [...source.matchAll(/'(tiers\.errors\.[A-Za-z]+)'/g)].map((match) => match[1]!);
    expect(keys.length).toBeGreaterThan(10);
    expect(keys.filter((key) => !known.has(key))).toEqual([]);
  });
});
