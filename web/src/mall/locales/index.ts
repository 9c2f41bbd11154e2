// The mall's i18n: its message tables, and Vant's own texts (dialog buttons, list loading)
// switched together with the app's language.
import { Locale as VantLocale } from 'vant';
import enUS from 'vant/es/locale/lang/en-US';
import zhCN from 'vant/es/locale/lang/zh-CN';
import { makeI18n, rememberLocale, type Locale } from '@/shared/i18n';
import en from './en';
import zh from './zh-CN';

export const messages = { en, 'zh-CN': zh };

export function useVantLocale(locale: Locale): void {
  if (locale === 'zh-CN') VantLocale.use('zh-CN', zhCN);
  else VantLocale.use('en-US', enUS);
}

export function createMallI18n(locale?: Locale) {
  const i18n = makeI18n(messages, locale);
  useVantLocale(i18n.global.locale.value as Locale);
  return i18n;
}

export function switchLocale(i18n: { locale: { value: string } }, locale: Locale): void {
  i18n.locale.value = locale;
  rememberLocale(locale);
  useVantLocale(locale);
}
