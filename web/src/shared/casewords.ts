// The words of a case's life, one table for the wall, the workbench and the mobile app:
// its statuses, the actions that move it, and its urgencies, in Chinese and English. A
// code the table does not know (a newer server) is shown as it came, underscores as
// spaces; a missing one (a case's first timeline entry has no "from", older records no
// action) is an empty string, never a crash.

import { currentLanguage } from './language';

/** A code's names: Chinese first, English beside it. */
interface Words {
  zh: string;
  en: string;
}

/** Every status of a case (the server's `CaseStatus`), in the order of its life, and the
 *  one that ends it early last (the order the workbench's filter offers them in). */
export const STATUSES: Readonly<Record<string, Words>> = {
  submitted: { zh: '待审核', en: 'submitted' },
  new: { zh: '待派遣', en: 'new' },
  dispatched: { zh: '待接收', en: 'dispatched' },
  accepted: { zh: '已接收', en: 'accepted' },
  in_progress: { zh: '处置中', en: 'in progress' },
  handled: { zh: '待核查', en: 'handled' },
  closed: { zh: '已结案', en: 'closed' },
  evaluated_satisfied: { zh: '已评价(满意)', en: 'evaluated satisfied' },
  evaluated_unsatisfied: { zh: '已评价(不满意)', en: 'evaluated unsatisfied' },
  rejected: { zh: '已驳回', en: 'rejected' },
};

/** Every action on a case (the server's `CaseAction`) and the deadline events of its timeline. */
export const ACTIONS: Readonly<Record<string, Words>> = {
  create: { zh: '立案', en: 'create' },
  approve: { zh: '审核通过', en: 'approve' },
  reject: { zh: '驳回', en: 'reject' },
  dispatch: { zh: '派遣', en: 'dispatch' },
  auto_dispatch: { zh: '自动派遣', en: 'auto dispatch' },
  accept: { zh: '接收', en: 'accept' },
  return: { zh: '退回', en: 'return' },
  recall: { zh: '撤回', en: 'recall' },
  start: { zh: '开始处置', en: 'start' },
  feedback: { zh: '反馈', en: 'feedback' },
  mark_handled: { zh: '处置完成', en: 'mark handled' },
  verify_and_close: { zh: '核查结案', en: 'verify and close' },
  send_back: { zh: '退回重办', en: 'send back' },
  close_directly: { zh: '直接结案', en: 'close directly' },
  supervise: { zh: '督办', en: 'supervise' },
  instruct: { zh: '批示', en: 'instruct' },
  bind_leader: { zh: '包案领导', en: 'bind leader' },
  reopen: { zh: '重新办理', en: 'reopen' },
  evaluate: { zh: '评价', en: 'evaluate' },
  warning: { zh: '临期预警', en: 'warning' },
  overdue_alarm: { zh: '超期告警', en: 'overdue alarm' },
};

/** The urgencies, from the least. */
export const URGENCIES: Readonly<Record<string, Words>> = {
  normal: { zh: '一般', en: 'normal' },
  urgent: { zh: '紧急', en: 'urgent' },
  critical: { zh: '特急', en: 'critical' },
};

/** The status codes, in the table's order. */
export const STATUS_CODES: readonly string[] = Object.keys(STATUSES);

/** The urgency codes, from the least. */
export const URGENCY_CODES: readonly string[] = Object.keys(URGENCIES);

function name(table: Readonly<Record<string, Words>>, code: string | null | undefined): string {
  const c = code ?? '';
  const words = Object.hasOwn(table, c) ? table[c] : undefined;
  return words ? words[currentLanguage()] : c.replace(/_/g, ' ');
}

/** A status's name in the page's language. */
export function statusName(status: string | null | undefined): string {
  return name(STATUSES, status);
}

/** An action's name in the page's language. */
export function actionName(action: string | null | undefined): string {
  return name(ACTIONS, action);
}

/** An urgency's name in the page's language. */
export function urgencyName(urgency: string | null | undefined): string {
  return name(URGENCIES, urgency);
}
