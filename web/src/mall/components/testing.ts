// Mounting options for component tests: the mall's i18n (English unless told) and Vant.
import Vant from 'vant';
import { createMallI18n } from '../locales';
import type { Locale } from '@/shared/i18n';

export function plugins(locale: Locale = 'en') {
  return { global: { plugins: [createMallI18n(locale), Vant] } };
}
