// Display helpers shared by the console's views.
import { ApiError } from '@/shared/api';
import { formatMoney, formatPoints } from '@/shared/i18n';

export function formatTime(iso: string | null | undefined, locale: string): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

export function points(value: number | null | undefined, locale: string): string {
  return value === null || value === undefined ? '' : formatPoints(value, locale);
}

export function money(value: { amount: number; currency: string } | null | undefined, locale: string) {
  return value ? formatMoney(value.amount, value.currency, locale) : '';
}

// Basis points as a percentage with two decimals: 1234 -> 12.34%.
export function basisPoints(value: number, locale: string): string {
  return new Intl.NumberFormat(locale, {
    style: 'percent',
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  }).format(value / 10_000);
}

// A calendar date as YYYY-MM-DD in local time.
export function isoDate(date: Date): string {
  const month = String(date.getMonth() + 1).padStart(2, '0');
  const day = String(date.getDate()).padStart(2, '0');
  return `${date.getFullYear()}-${month}-${day}`;
}

export function daysBefore(date: Date, days: number): Date {
  const copy = new Date(date);
  copy.setDate(copy.getDate() - days);
  return copy;
}

// The key of the message that explains an error: `errors.<problem type>` when the table has one.
export function errorKey(error: unknown, has: (key: string) => boolean): string {
  const type = error instanceof ApiError ? error.type : 'unexpected';
  const key = `errors.${type}`;
  return has(key) ? key : 'errors.unexpected';
}

export function errorDetail(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = error.problem.errors?.map((item) => `${item.field}: ${item.message}`) ?? [];
    return [error.problem.detail ?? '', ...fields].filter(Boolean).join('; ');
  }
  return error instanceof Error ? error.message : String(error);
}

// A calendar date (YYYY-MM-DD) moved by whole days, independent of the browser's time zone.
export function addDays(date: string, days: number): string {
  const moved = new Date(`${date}T00:00:00Z`);
  moved.setUTCDate(moved.getUTCDate() + days);
  return moved.toISOString().slice(0, 10);
}
