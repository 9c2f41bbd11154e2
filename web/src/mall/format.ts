// Dates and points as the member's language writes them.
import { formatPoints } from '@/shared/i18n';

export function formatDate(iso: string, locale: string): string {
  const date = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
  return new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'short', day: 'numeric' }).format(date);
}

export function formatDateTime(iso: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(iso));
}

// "+120" / "-40" / "0": the sign is part of what the member reads.
export function signedPoints(points: number, locale: string): string {
  const text = formatPoints(Math.abs(points), locale);
  if (points > 0) return `+${text}`;
  if (points < 0) return `-${text}`;
  return text;
}

export { formatPoints };
