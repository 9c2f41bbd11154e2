import { reactive } from 'vue';
import { useI18n } from 'vue-i18n';
import { ElMessage } from 'element-plus';
import type { DocumentVersion } from '../api/types';
import { useConfirm } from './confirm';
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
  const { confirmThenRun } = useConfirm();
  const versions = reactive({ open: false, load: null as VersionsLoader | null });

  async function retire(doc: { id: string; name: string }): Promise<void> {
    await confirmThenRun({
      question: t(options.confirmKey, { name: doc.name }),
      title: t('common.retire'),
      act: () => options.retire(doc.id),
      done: t('common.retired'),
      after: options.reload,
    });
  }

  function showVersions(doc: { id: string }): void {
    versions.load = () => options.versions(doc.id);
    versions.open = true;
  }

  return { retire, versions, showVersions };
}

// A versioned document edited as JSON in a dialog (rules, coupon templates): "new" opens
// `example`, "edit" the document as read (with its version, so a concurrent edit is refused);
// saving creates or replaces it, then closes the dialog and reloads the table. Bind the dialog
// to `editor.open`, its text to `editor.text` and its button's loading to `editor.busy`.
export function useJsonDocumentEditor(options: {
  example: object;
  create: (doc: Record<string, unknown>) => Promise<unknown>;
  replace: (id: string, doc: Record<string, unknown>) => Promise<unknown>;
  reload: () => void;
}) {
  const { t } = useI18n();
  const { notify, parseJson } = useErrors();
  const editor = reactive({ open: false, creating: true, id: '', text: '', busy: false });

  function openCreate(): void {
    Object.assign(editor, { open: true, creating: true, id: '', text: JSON.stringify(options.example, null, 2) });
  }
  function openEdit(doc: { id: string }): void {
    Object.assign(editor, { open: true, creating: false, id: doc.id, text: JSON.stringify(doc, null, 2) });
  }
  async function save(): Promise<void> {
    const doc = parseJson<Record<string, unknown>>(editor.text);
    if (!doc) return;
    editor.busy = true;
    try {
      if (editor.creating) await options.create(doc);
      else await options.replace(editor.id, doc);
      editor.open = false;
      ElMessage.success(t('common.saved'));
      options.reload();
    } catch (caught) {
      notify(caught);
    } finally {
      editor.busy = false;
    }
  }

  return { editor, openCreate, openEdit, save };
}
