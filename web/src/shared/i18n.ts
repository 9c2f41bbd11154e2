// Languages of both front ends: English and Simplified Chinese, chosen by the user and
// remembered in localStorage, else taken from the browser. Each front end passes its own message
// tables; both tables must have the same keys (src/shared/i18n.test.ts-style tests check it), and
// a missing key is reported on the console as `[i18n] missing key` so the browser tests catch it.
import { createI18n } from 'vue-i18n';

export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];

const STORAGE_KEY = 'pointsmall.locale';

export function initialLocale(): Locale {
  const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
  if (saved && (LOCALES as readonly string[]).includes(saved)) return saved as Locale;
  const browser = globalThis.navigator?.language ?? 'en';
  return browser.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

export function rememberLocale(locale: Locale): void {
  globalThis.localStorage?.setItem(STORAGE_KEY, locale);
  if (globalThis.document) globalThis.document.documentElement.lang = locale;
}

// A message table: nested objects whose leaves are message strings.
export interface Messages {
  [key: string]: string | Messages;
}

export function makeI18n(messages: Record<Locale, Messages>, locale: Locale = initialLocale()) {
  return createI18n({
    legacy: false,
    locale,
    fallbackLocale: false,
    messages,
    missingWarn: false,
    fallbackWarn: false,
    missing: (lang, key) => {
      console.error(`[i18n] missing key ${lang}:${key}`);
      return key;
    },
  });
}

// Every key path of a message table ("home.balance"), for tests that compare the languages.
export function keyPaths(table: Messages, prefix = ''): string[] {
  return Object.entries(table).flatMap(([name, value]) =>
    typeof value === 'object'
      ? keyPaths(value, `${prefix}${name}.`)
      : [`${prefix}${name}`],
  );
}

// Points as the user's language writes numbers (1,234 / 1,234).
export function formatPoints(points: number, locale: string): string {
  return new Intl.NumberFormat(locale).format(points);
}

// How many decimals a currency's minor units have (GBP 2, JPY 0); 2 for a code Intl does not know.
export function minorUnitDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

// Money in minor units, e.g. {amount: 1999, currency: "GBP"} -> £19.99.
export function formatMoney(amount: number, currency: string, locale: string): string {
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(
    amount / 10 ** minorUnitDigits(currency),
  );
}
