import { useI18n } from 'vue-i18n';
import { ElMessage } from 'element-plus';
import { errorDetail, errorKey } from './format';

// What a view shows for a failed call: a translated headline by problem type, then the server's
// detail (which names the field or the rule at fault).
export function useErrors() {
  const { t, te } = useI18n();
  function describe(error: unknown): string {
    const headline = t(errorKey(error, (key) => te(key)));
    const detail = errorDetail(error);
    return detail ? `${headline} (${detail})` : headline;
  }
  function notify(error: unknown): void {
    ElMessage({ type: 'error', message: describe(error), duration: 6000, showClose: true });
  }
  // The label of an API value (`orders.states` + `shipped`); a value the tables do not know yet is
  // shown as it is, and Element Plus's column probe (no row) gets ''.
  function label(prefix: string, value: string | null | undefined): string {
    if (value === null || value === undefined || value === '') return '';
    const key = `${prefix}.${value}`;
    return te(key) ? t(key) : value;
  }
  // The JSON object an editor holds, or null after telling the operator the text is not JSON.
  function parseJson<T = Record<string, unknown>>(text: string): T | null {
    try {
      return JSON.parse(text) as T;
    } catch {
      ElMessage.error(t('common.invalidJson'));
      return null;
    }
  }
  return { describe, notify, label, parseJson };
}
