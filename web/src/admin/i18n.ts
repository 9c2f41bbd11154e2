import { makeI18n, type Locale } from '@/shared/i18n';
import en from './locales/en';
import zhCN from './locales/zh-CN';

export const messages: Record<Locale, typeof en> = { en, 'zh-CN': zhCN };

export const i18n = makeI18n(messages);
