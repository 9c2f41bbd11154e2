import { useI18n } from 'vue-i18n';
import { ElMessage, ElMessageBox } from 'element-plus';
import { useErrors } from './useErrors';

// Acting after the operator's yes: a warning box asks `question` under `title` (its button says
// `button`, the title unless told), and only a yes goes on.
export function useConfirm() {
  const { t } = useI18n();
  const { notify } = useErrors();

  // True on yes, false when the operator cancelled or closed the box.
  async function confirmed(question: string, title: string, button: string = title): Promise<boolean> {
    try {
      await ElMessageBox.confirm(question, title, {
        type: 'warning',
        confirmButtonText: button,
        cancelButtonText: t('common.cancel'),
      });
      return true;
    } catch {
      return false;
    }
  }

  // After a yes: runs `act`, then says `done` and calls `after` (e.g. reloads a table); a failure
  // is shown to the operator instead.
  async function confirmThenRun(options: {
    question: string;
    title: string;
    act: () => Promise<unknown>;
    done: string;
    after: () => void;
  }): Promise<void> {
    if (!(await confirmed(options.question, options.title))) return;
    try {
      await options.act();
      ElMessage.success(options.done);
      options.after();
    } catch (caught) {
      notify(caught);
    }
  }

  return { confirmed, confirmThenRun };
}
