import { reactive } from 'vue';
import { useI18n } from 'vue-i18n';
import { ElMessage, ElMessageBox } from 'element-plus';
import type { DocumentVersion } from '../api/types';
import { useErrors } from './useErrors';

type VersionsLoader = () => Promise<{ data: DocumentVersion<unknown>[] }>;

// What every table of versioned documents (rules, campaigns, items, coupon templates) offers on a
// row: retiring the document after a confirmation (then reloading the table), and opening its
// versions in VersionsDialog (bind `versions.open` and `versions.load`).
export function useDocumentActions(options: {
  retire: (id: string) => Promise<unknown>;
  versions: (id: string) => Promise<{ data: DocumentVersion<unknown>[] }>;
  // i18n key of the confirmation question, given `{name}`.
  confirmKey: string;
  reload: () => void;
}) {
  const { t } = useI18n();
  const { notify } = useErrors();
  const versions = reactive({ open: false, load: null as VersionsLoader | null });

  async function retire(doc: { id: string; name: string }): Promise<void> {
    try {
      await ElMessageBox.confirm(t(options.confirmKey, { name: doc.name }), t('common.retire'), {
        type: 'warning',
        confirmButtonText: t('common.retire'),
        cancelButtonText: t('common.cancel'),
      });
    } catch {
      return; // the operator cancelled
    }
    try {
      await options.retire(doc.id);
      ElMessage.success(t('common.retired'));
      options.reload();
    } catch (caught) {
      notify(caught);
    }
  }

  function showVersions(doc: { id: string }): void {
    versions.load = () => options.versions(doc.id);
    versions.open = true;
  }

  return { retire, versions, showVersions };
}
