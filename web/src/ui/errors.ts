import { ApiError } from '../api/types';
import { t } from '../i18n';

/** What a failed call says to the user: the server's code and message, or a generic text. */
export function errText(e: unknown): string {
  return e instanceof ApiError ? `${e.code}: ${e.message}` : t('error');
}
