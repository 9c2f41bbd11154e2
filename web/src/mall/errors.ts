// A refusal as the member reads it: the problem `type` names the message (errors.<type> in the
// locale tables); an unknown type falls back to a generic message rather than the raw English
// detail of the server.
import { ApiError } from '@/shared/api';

type Translate = (key: string, values?: Record<string, unknown>) => string;
type HasKey = (key: string) => boolean;

export function problemType(error: unknown): string {
  return error instanceof ApiError ? error.type : 'generic';
}

export function errorMessage(error: unknown, t: Translate, te: HasKey): string {
  const type = problemType(error);
  if (type === 'validation_failed' && error instanceof ApiError) {
    const fields = (error.problem.errors ?? []).map((e) => e.field).join(', ');
    return t('errors.validation_failed', { fields });
  }
  const key = `errors.${type}`;
  return te(key) ? t(key) : t('errors.generic');
}
