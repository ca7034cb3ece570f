// What waits to be sent and what failed: each submission with its state, the photos it
// carries, and the server's reason when it was refused; a failed one can be retried or
// given up.

import { stateName } from './forms';
import { icons } from './icons';
import { esc, type App } from './shell';
import { w } from './words';

export function outboxScreen(app: App): () => void {
  let alive = true;
  const render = async () => {
    const entries = (await app.outbox.all()).reverse();
    if (!alive) return;
    app.main.innerHTML = `
      <h1 class="screen-title">${w('queue')}</h1>
      <button type="button" class="button" data-test="outbox-flush">${w('retryNow')}</button>
      ${entries.length ? '' : `<p class="empty" data-test="outbox-empty">${w('queueEmpty')}</p>`}
      <ul class="outbox" data-test="outbox-list">
        ${entries
          .map(
            (e) => `<li class="entry ${e.state}" data-test="outbox-entry" data-state="${e.state}" data-key="${esc(e.key)}" data-attachments="${esc(e.photos.map((p) => p.attachmentId ?? '').join(','))}">
              <span class="entry-top"><span class="state" data-test="outbox-state">${esc(stateName(e.state))}</span>
              <time>${esc(new Date(e.createdAt).toLocaleTimeString())}</time></span>
              <b>${esc(e.label)}</b>
              ${e.photos.length ? `<span class="photos" data-test="outbox-photos" data-count="${e.photos.length}">${icons.photo} ${e.photos.filter((p) => p.attachmentId).length}/${e.photos.length} ${w('uploaded')}</span>` : ''}
              ${e.error && e.state !== 'done' ? `<p class="error" data-test="outbox-error">${e.state === 'failed' ? `${w('refused')}：` : ''}${esc(e.error)}</p>` : ''}
              ${e.state === 'waiting' ? `<p class="hint">${w('retryAt')}</p>` : ''}
              ${
                e.state === 'failed'
                  ? `<div class="actions"><button type="button" class="button" data-retry="${e.seq}" data-test="outbox-retry">${w('retryNow')}</button>
                     <button type="button" class="button" data-discard="${e.seq}" data-test="outbox-discard">${w('discard')}</button></div>`
                  : ''
              }
            </li>`,
          )
          .join('')}
      </ul>`;
    (app.main.querySelector('[data-test=outbox-flush]') as HTMLElement).onclick = () => void app.outbox.flush();
    for (const b of app.main.querySelectorAll<HTMLButtonElement>('[data-retry]')) b.onclick = () => void app.outbox.retry(Number(b.dataset.retry));
    for (const b of app.main.querySelectorAll<HTMLButtonElement>('[data-discard]')) b.onclick = () => void app.outbox.discard(Number(b.dataset.discard));
  };
  void render();
  const stop = app.outbox.subscribe(() => void render());
  return () => {
    alive = false;
    stop();
  };
}
