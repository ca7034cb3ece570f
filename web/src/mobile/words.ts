// The mobile app's words in Chinese (the default) and English (`?lang=en`, kept for the
// next visits). The wall's dictionary stays the wall's: the two screens share no text.

const zh = {
  appName: '网格员',
  title: '瓯海网格员',
  login: '登录',
  username: '用户名',
  password: '密码',
  loginFailed: '登录失败：用户名或密码不正确',
  loginUnreachable: '无法连接服务器，请检查网络后重试',
  logout: '退出登录',
  tasks: '我的任务',
  report: '上报',
  queue: '待发送',
  mine: '派给我',
  inGrid: '本网格',
  noTasks: '暂无任务',
  offline: '离线：操作将保存在手机上，联网后自动发送',
  offlineShort: '离线',
  live: '实时',
  connecting: '连接中…',
  reconnecting: '重连中…',
  left: '剩余',
  overdueBy: '已超期',
  noDeadline: '无时限',
  day: '天',
  hour: '小时',
  minute: '分',
  back: '返回',
  details: '详情',
  category: '类别',
  status: '状态',
  urgency: '紧急程度',
  address: '地点',
  createdAt: '上报时间',
  deadline: '处置时限',
  description: '描述',
  timeline: '处置进程',
  accept: '接收',
  return: '退回',
  returnReason: '退回原因',
  confirmReturn: '确认退回',
  start: '开始处置',
  feedback: '反馈',
  markHandled: '处置完成',
  summary: '处置结果',
  text: '情况说明',
  photos: '现场照片',
  takePhoto: '拍照 / 选择照片',
  removePhoto: '删除',
  position: '我的位置',
  locating: '正在定位…',
  noPosition: '无法获取位置',
  send: '发送',
  sent: '已发送',
  queued: '已保存，联网后自动发送',
  alreadyQueued: '该内容已提交，请勿重复发送',
  required: '请填写',
  textOrPhoto: '请填写情况说明或拍摄照片',
  newCase: '上报新事件',
  chooseCategory: '选择类别',
  waiting: '等待发送',
  sending: '正在发送',
  failed: '发送失败',
  done: '已完成',
  retryNow: '立即重试',
  discard: '放弃',
  queueEmpty: '没有待发送的内容',
  retryAt: '将自动重试',
  uploaded: '张已上传',
  stepPhoto: '上传照片',
  stepAction: '提交',
  stepCreate: '创建事件',
  myPosition: '我的位置',
  casePlace: '事件位置',
  assignedToMe: '指派给我',
  newTask: '新任务',
  loading: '加载中…',
  notFound: '没有找到该事件',
  none: '无',
  refused: '服务器拒绝了该操作',
  refusedStatus: '事件状态已变化，该操作已不可执行',
  refusedRole: '您无权执行该操作',
  refusedGone: '事件不存在或已不在您的范围内',
  sessionEnded: '登录已过期，请重新登录',
} as const;

export type Word = keyof typeof zh;
export type Language = 'zh' | 'en';

const en: Record<Word, string> = {
  appName: 'Grid worker',
  title: 'Ouhai grid worker',
  login: 'Log in',
  username: 'User name',
  password: 'Password',
  loginFailed: 'Login failed: wrong user name or password',
  loginUnreachable: 'Cannot reach the server; check the connection and try again',
  logout: 'Log out',
  tasks: 'My tasks',
  report: 'Report',
  queue: 'Outbox',
  mine: 'Assigned to me',
  inGrid: 'In my grid',
  noTasks: 'No tasks',
  offline: 'Offline: actions are kept on the phone and sent when the connection returns',
  offlineShort: 'Offline',
  live: 'Live',
  connecting: 'Connecting…',
  reconnecting: 'Connection lost, reconnecting…',
  left: 'left',
  overdueBy: 'overdue by',
  noDeadline: 'no deadline',
  day: 'd',
  hour: 'h',
  minute: 'min',
  back: 'Back',
  details: 'Details',
  category: 'Category',
  status: 'Status',
  urgency: 'Urgency',
  address: 'Place',
  createdAt: 'Reported',
  deadline: 'Deadline',
  description: 'Description',
  timeline: 'Timeline',
  accept: 'Accept',
  return: 'Return',
  returnReason: 'Why return it',
  confirmReturn: 'Return the case',
  start: 'Start work',
  feedback: 'Feedback',
  markHandled: 'Mark handled',
  summary: 'Result',
  text: 'What was done',
  photos: 'Photos',
  takePhoto: 'Take / choose a photo',
  removePhoto: 'Remove',
  position: 'My position',
  locating: 'Locating…',
  noPosition: 'Position not available',
  send: 'Send',
  sent: 'Sent',
  queued: 'Saved; it will be sent when the connection returns',
  alreadyQueued: 'Already submitted; it is not sent twice',
  required: 'Required',
  textOrPhoto: 'Write what was done or take a photo',
  newCase: 'Report a new case',
  chooseCategory: 'Choose a category',
  waiting: 'Waiting',
  sending: 'Sending',
  failed: 'Failed',
  done: 'Done',
  retryNow: 'Retry now',
  discard: 'Discard',
  queueEmpty: 'Nothing waits to be sent',
  retryAt: 'retried automatically',
  uploaded: 'uploaded',
  stepPhoto: 'photo upload',
  stepAction: 'submit',
  stepCreate: 'create case',
  myPosition: 'My position',
  casePlace: 'The case',
  assignedToMe: 'Assigned to me',
  newTask: 'New task',
  loading: 'Loading…',
  notFound: 'No such case',
  none: 'none',
  refused: 'The server refused the action',
  refusedStatus: 'The case has changed: this action is no longer possible',
  refusedRole: 'You may not take this action',
  refusedGone: 'The case does not exist or is no longer within your reach',
  sessionEnded: 'The session has ended: log in again',
};

const statusZh: Record<string, string> = {
  submitted: '待审核',
  rejected: '已驳回',
  new: '待派遣',
  dispatched: '待接收',
  accepted: '已接收',
  in_progress: '处置中',
  handled: '待核查',
  closed: '已结案',
  evaluated_satisfied: '已评价(满意)',
  evaluated_unsatisfied: '已评价(不满意)',
};
const actionZh: Record<string, string> = {
  create: '立案',
  dispatch: '派遣',
  auto_dispatch: '自动派遣',
  accept: '接收',
  return: '退回',
  start: '开始处置',
  feedback: '反馈',
  mark_handled: '处置完成',
  verify_and_close: '核查结案',
  send_back: '退回重办',
  supervise: '督办',
  instruct: '批示',
  reopen: '重新办理',
  evaluate: '评价',
};
const urgencyZh: Record<string, string> = { normal: '一般', urgent: '紧急', critical: '特急' };

let current: Language = 'zh';

export function setLanguage(language: Language): void {
  current = language;
  document.documentElement.lang = language === 'zh' ? 'zh-CN' : 'en';
}

export function language(): Language {
  return current;
}

export function w(word: Word): string {
  return current === 'zh' ? zh[word] : en[word];
}

export function statusName(status: string): string {
  return current === 'zh' ? (statusZh[status] ?? status) : status.replace(/_/g, ' ');
}

export function actionName(action: string): string {
  return current === 'zh' ? (actionZh[action] ?? action) : action.replace(/_/g, ' ');
}

export function urgencyName(urgency: string): string {
  return current === 'zh' ? (urgencyZh[urgency] ?? urgency) : urgency;
}

/** "3小时12分" / "3 h 12 min": a duration in whole minutes, for deadline countdowns. */
export function duration(ms: number): string {
  const minutes = Math.max(0, Math.floor(Math.abs(ms) / 60_000));
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const sep = current === 'zh' ? '' : ' ';
  const parts: string[] = [];
  if (d) parts.push(`${d}${sep}${w('day')}`);
  if (d || h) parts.push(`${h}${sep}${w('hour')}`);
  parts.push(`${m}${sep}${w('minute')}`);
  return parts.join(sep);
}
