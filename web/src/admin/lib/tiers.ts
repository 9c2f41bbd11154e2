// The tiers form and the tiers document it makes (docs/earning.md, tiers). The form holds what the
// document says in the operator's units: thresholds of a money_spent program are typed in major
// units of its currency ("500.00") and stored as integer minor units (50000). Fields the form does
// not know are kept: the document's own ride along in the `base` given to buildTiersDocument, a
// tier's in its row.
import { minorUnitDigits } from '@/shared/i18n';
import type { JsonObject } from '../api/types';

export const TIER_MEASURES = ['points_earned', 'money_spent'] as const;
export const TIER_PERIODS = ['calendar_year', 'calendar_quarter', 'calendar_month', 'rolling_months'] as const;
export const DOWNGRADES = ['recalculate', 'drop_one', 'grace'] as const;
export type TierMeasure = (typeof TIER_MEASURES)[number];
export type TierPeriod = (typeof TIER_PERIODS)[number];
export type Downgrade = (typeof DOWNGRADES)[number];

// What the server accepts (src/rules/document.cc, read_tiers), for the form's checks and controls.
export const MAX_TIERS = 20;
export const MAX_ID_LENGTH = 64;
export const MAX_NAME_LENGTH = 128;
const MAX_THRESHOLD = 1_000_000_000_000;
const MAX_TAGS = 100;
const MAX_TAG_LENGTH = 64;
export const LIMITS = {
  months: { min: 1, max: 36, default: 12 },
  gracePeriods: { min: 1, max: 12, default: 1 },
  earnPercent: { min: 100, max: 1000, default: 100 },
  validityDays: { min: 0, max: 36_500, default: 0 },
  discountPercent: { min: 0, max: 90, default: 0 },
} as const;
type Limit = (typeof LIMITS)[keyof typeof LIMITS];

export interface TierRow {
  id: string;
  name: string;
  threshold: string; // as typed: points, or major units of the currency for money_spent
  earnPercent: number;
  validityDays: number;
  discountPercent: number;
  exclusiveTags: string[];
  extra: JsonObject; // the tier's fields the form does not know, written back unchanged
}

export interface TiersForm {
  measure: TierMeasure;
  currency: string; // used with money_spent only
  period: TierPeriod;
  months: number; // used with rolling_months only
  downgrade: Downgrade;
  gracePeriods: number; // used with grace only
  tiers: TierRow[];
}

export function emptyTierRow(): TierRow {
  return {
    id: '',
    name: '',
    threshold: '',
    earnPercent: LIMITS.earnPercent.default,
    validityDays: LIMITS.validityDays.default,
    discountPercent: LIMITS.discountPercent.default,
    exclusiveTags: [],
    extra: {},
  };
}

// The form of a program without tiers: one tier where every member starts.
export function emptyTiersForm(): TiersForm {
  return {
    measure: 'points_earned',
    currency: '',
    period: 'calendar_year',
    months: LIMITS.months.default,
    downgrade: 'recalculate',
    gracePeriods: LIMITS.gracePeriods.default,
    tiers: [{ ...emptyTierRow(), id: 'member', name: 'Member', threshold: '0' }],
  };
}

// ---- Money in minor units ---------------------------------------------------------------------

// A non-negative decimal text with at most `digits` decimals as an integer count of minor units
// ("500.05", 2 -> 50005), parsed digit by digit so no float rounding enters; null for anything
// else ("-1", "1.234" with 2 digits, "1e3", "") and for amounts past Number.MAX_SAFE_INTEGER.
export function parseMinorUnits(text: string, digits: number): number | null {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) return null;
  const fraction = match[2] ?? '';
  if (fraction.length > digits) return null;
  const minor = Number(match[1]! + fraction.padEnd(digits, '0'));
  return Number.isSafeInteger(minor) ? minor : null;
}

// Minor units as the decimal text parseMinorUnits reads back (50005, 2 -> "500.05").
export function formatMinorUnits(minor: number, digits: number): string {
  if (digits === 0) return String(minor);
  const text = String(minor).padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

// The decimals a threshold may have: none for points, the minor unit's for money.
export function thresholdDigits(form: Pick<TiersForm, 'measure' | 'currency'>): number {
  return form.measure === 'money_spent' ? minorUnitDigits(form.currency) : 0;
}

// ---- Document <-> form ------------------------------------------------------------------------

const DOCUMENT_FIELDS = ['measure', 'currency', 'period', 'months', 'downgrade', 'grace_periods', 'tiers'];
const TIER_FIELDS = [
  'id',
  'name',
  'threshold',
  'earn_percent',
  'validity_days',
  'redemption_discount_percent',
  'exclusive_item_tags',
];

function unknownFields(object: JsonObject, known: string[]): JsonObject {
  return Object.fromEntries(Object.entries(object).filter(([name]) => !known.includes(name)));
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function oneOf<T extends string>(values: readonly T[], value: unknown): value is T {
  return values.includes(value as T);
}

function inLimit(value: unknown, limit: Limit): value is number {
  return Number.isInteger(value) && (value as number) >= limit.min && (value as number) <= limit.max;
}

// A tier of the document as a row, or null when a field has a value the row's controls cannot
// hold (a wrong type, a number out of range, a threshold that is not a non-negative integer).
function tierToRow(tier: unknown, digits: number): TierRow | null {
  if (!isObject(tier)) return null;
  const {
    id = '',
    name = '',
    threshold,
    earn_percent: earnPercent = LIMITS.earnPercent.default,
    validity_days: validityDays = LIMITS.validityDays.default,
    redemption_discount_percent: discountPercent = LIMITS.discountPercent.default,
    exclusive_item_tags: tags = [],
  } = tier;
  if (typeof id !== 'string' || typeof name !== 'string') return null;
  if (!Number.isSafeInteger(threshold) || (threshold as number) < 0) return null;
  if (!inLimit(earnPercent, LIMITS.earnPercent) || !inLimit(validityDays, LIMITS.validityDays)) return null;
  if (!inLimit(discountPercent, LIMITS.discountPercent)) return null;
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string')) return null;
  return {
    id,
    name,
    threshold: formatMinorUnits(threshold as number, digits),
    earnPercent,
    validityDays,
    discountPercent,
    exclusiveTags: [...tags],
    extra: unknownFields(tier, TIER_FIELDS),
  };
}

// The form's fields read back from a tiers document; null when the document has something the
// form cannot show faithfully (then only the JSON view edits it): an unknown measure, period or
// downgrade, a setting that does not apply (currency without money_spent, months without
// rolling_months, grace_periods without grace), a value of a wrong type or out of range.
export function tiersToForm(doc: JsonObject): TiersForm | null {
  const {
    measure,
    currency = '',
    period = 'calendar_year',
    months = LIMITS.months.default,
    downgrade = 'recalculate',
    grace_periods: gracePeriods = LIMITS.gracePeriods.default,
    tiers,
  } = doc;
  if (!oneOf(TIER_MEASURES, measure) || !oneOf(TIER_PERIODS, period) || !oneOf(DOWNGRADES, downgrade)) return null;
  const applies = (name: string, condition: boolean) => condition || !(name in doc);
  if (!applies('currency', measure === 'money_spent') || typeof currency !== 'string') return null;
  if (!applies('months', period === 'rolling_months') || !inLimit(months, LIMITS.months)) return null;
  if (!applies('grace_periods', downgrade === 'grace') || !inLimit(gracePeriods, LIMITS.gracePeriods)) return null;
  if (!Array.isArray(tiers)) return null;
  const digits = thresholdDigits({ measure, currency });
  const rows = tiers.map((tier) => tierToRow(tier, digits));
  if (rows.some((row) => row === null)) return null;
  return { measure, currency, period, months, downgrade, gracePeriods, tiers: rows as TierRow[] };
}

// The document the form makes, over `base` (the document read: its version and the fields the
// form does not know are kept). A setting that does not apply is left out, as the server refuses
// it; a threshold that does not parse is sent as typed, for the server to name.
export function buildTiersDocument(form: TiersForm, base: JsonObject = {}): JsonObject {
  const digits = thresholdDigits(form);
  const doc: JsonObject = { measure: form.measure };
  if (form.measure === 'money_spent') doc.currency = form.currency;
  doc.period = form.period;
  if (form.period === 'rolling_months') doc.months = form.months;
  doc.downgrade = form.downgrade;
  if (form.downgrade === 'grace') doc.grace_periods = form.gracePeriods;
  doc.tiers = form.tiers.map((row) => ({
    id: row.id.trim(),
    name: row.name.trim(),
    threshold: parseMinorUnits(row.threshold, digits) ?? row.threshold.trim(),
    earn_percent: row.earnPercent,
    validity_days: row.validityDays,
    redemption_discount_percent: row.discountPercent,
    exclusive_item_tags: [...row.exclusiveTags],
    ...row.extra,
  }));
  return { ...doc, ...unknownFields(base, DOCUMENT_FIELDS) };
}

// ---- Checks -----------------------------------------------------------------------------------

// A message for the operator: an i18n key and its parameters.
export interface FormMessage {
  key: string;
  params?: Record<string, string | number>;
}

// Messages by the document's field path, as the server names fields: "currency", "tiers",
// "tiers[2].threshold".
export type TiersFormErrors = Record<string, FormMessage>;

export function tierField(index: number, field: string): string {
  return `tiers[${index}].${field}`;
}

const ID_PATTERN = new RegExp(`^[a-z0-9_-]{1,${MAX_ID_LENGTH}}$`);

function range(limit: Limit): FormMessage {
  return { key: 'tiers.errors.range', params: { min: limit.min, max: limit.max } };
}

// What the server would refuse in the form (docs/earning.md, tiers); empty when nothing. The
// server still checks every save and its answer is the one that counts.
export function validateTiersForm(form: TiersForm): TiersFormErrors {
  const errors: TiersFormErrors = {};
  if (form.measure === 'money_spent' && !/^[A-Z]{3}$/.test(form.currency)) {
    errors.currency = { key: 'tiers.errors.currency' };
  }
  if (form.period === 'rolling_months' && !inLimit(form.months, LIMITS.months)) errors.months = range(LIMITS.months);
  if (form.downgrade === 'grace' && !inLimit(form.gracePeriods, LIMITS.gracePeriods)) {
    errors.grace_periods = range(LIMITS.gracePeriods);
  }
  if (form.tiers.length < 1 || form.tiers.length > MAX_TIERS) {
    errors.tiers = { key: 'tiers.errors.count', params: { max: MAX_TIERS } };
  }

  const digits = thresholdDigits(form);
  const seen = new Map<string, number>(); // id -> the first row with it
  let previous: { row: number; threshold: number } | null = null; // the highest valid threshold
  form.tiers.forEach((tier, index) => {
    const at = (field: string) => tierField(index, field);
    const id = tier.id.trim();
    if (!ID_PATTERN.test(id)) errors[at('id')] = { key: 'tiers.errors.id' };
    else if (seen.has(id)) errors[at('id')] = { key: 'tiers.errors.idRepeated', params: { row: seen.get(id)! + 1 } };
    else seen.set(id, index);
    const nameLength = [...tier.name.trim()].length;
    if (nameLength < 1 || nameLength > MAX_NAME_LENGTH) {
      errors[at('name')] = { key: 'tiers.errors.name', params: { max: MAX_NAME_LENGTH } };
    }

    const threshold = parseMinorUnits(tier.threshold, digits);
    if (threshold === null) {
      errors[at('threshold')] =
        digits === 0
          ? { key: 'tiers.errors.wholeNumber' }
          : { key: 'tiers.errors.amount', params: { example: formatMinorUnits(50_000, digits) } };
    } else if (threshold > MAX_THRESHOLD) {
      errors[at('threshold')] = { key: 'tiers.errors.thresholdMax', params: { max: formatMinorUnits(MAX_THRESHOLD, digits) } };
    } else if (previous && threshold <= previous.threshold) {
      errors[at('threshold')] = {
        key: 'tiers.errors.ascending',
        params: { row: previous.row + 1, threshold: formatMinorUnits(previous.threshold, digits) },
      };
    } else {
      // As the server does, a first tier above 0 still sets the bar for the next ones.
      if (index === 0 && threshold !== 0) errors[at('threshold')] = { key: 'tiers.errors.firstThreshold' };
      previous = { row: index, threshold };
    }

    if (!inLimit(tier.earnPercent, LIMITS.earnPercent)) errors[at('earn_percent')] = range(LIMITS.earnPercent);
    if (!inLimit(tier.validityDays, LIMITS.validityDays)) errors[at('validity_days')] = range(LIMITS.validityDays);
    if (!inLimit(tier.discountPercent, LIMITS.discountPercent)) {
      errors[at('redemption_discount_percent')] = range(LIMITS.discountPercent);
    }
    const tags = tier.exclusiveTags;
    if (tags.length > MAX_TAGS || tags.some((tag) => tag.length < 1 || [...tag].length > MAX_TAG_LENGTH)) {
      errors[at('exclusive_item_tags')] = { key: 'tiers.errors.tags', params: { max: MAX_TAGS, length: MAX_TAG_LENGTH } };
    }
  });
  return errors;
}
