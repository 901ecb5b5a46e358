// One recording: the player, and beside it the session's marks (clicks, rage and
// dead clicks, errors, form errors, page views) as a list whose entries seek the
// player there. An rrweb recording plays in the player's own frame (see
// replay.ts for why it is a document of its own); a video in a <video> element.
// `?t=<ms since the epoch>` opens it at that moment, a little before; a mark
// clicked writes its moment there too, so a reload or a shared link shows the
// same. An owner or admin may delete the recording.

import { api, replayHref, type Mark, type RecordingDetail } from '../api';
import { h, fill } from '../dom';
import { formatBytes, formatClock, formatCount, formatDateTime, UNKNOWN } from '../format';
import { MARK_KINDS, atFromQuery, currentMark, markText, recordingHash, recordingWho } from '../recordings';
import { frameAddress, isPlayerMessage, seekOffset, type SeekMessage } from '../replay';
import { canChange } from '../roles';
import { projectHash, routeHash } from '../routes';
import { parseTime } from '../timerange';
import { errorNotice, messageOf } from '../ui/alert';
import type { AppContext, View } from '../context';
import { missingProject } from './missing';

/** The player's page, by the address (versioned by its hash) that index.html names. */
function playerPage(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="spoor-player"]')?.content || '/assets/player.html';
}

export function recordingPage(ctx: AppContext, projectId: string, recordingId: string, query: Record<string, string>): View {
  const project = ctx.project(projectId);
  if (!project) return missingProject();
  const projectKey = String(project.id);
  const editable = canChange(project.role);
  const openAt = atFromQuery(query);
  const controller = new AbortController();
  let recording: RecordingDetail | null = null;
  /** The recording's first moment (ms since the epoch): the player's first event once it says so. */
  let start = 0;
  let duration: number | null = null;
  let offset = 0;
  let seek: (at: number) => void = () => {};
  let stopListening = () => {};

  const errors = errorNotice();
  const heading = h('h1', null, 'Recording ', h('span', { class: 'subtitle' }, project.name));
  const status = h('p', { class: 'muted', role: 'status' }, 'Loading the recording…');
  const facts = h('div');
  const stage = h('div', { class: 'player-stage' });
  const clock = h('p', { class: 'player-time muted', 'data-offset-ms': '0' });
  const marksList = h('ol', { class: 'marks' });
  const actions = h('div', { class: 'actions' });
  const side = h(
    'section',
    { class: 'panel marks-panel', 'aria-labelledby': 'marks-heading', hidden: true },
    h('h2', { id: 'marks-heading' }, 'What happened'),
    h('p', { class: 'hint' }, 'Choose a moment to watch it, from a couple of seconds before.'),
    marksList,
  );
  const layout = h('div', { class: 'player-layout', hidden: true }, h('div', { class: 'player-main' }, stage, clock), side);

  function showClock() {
    clock.dataset.offsetMs = String(Math.round(offset));
    clock.textContent = `At ${formatClock(offset)}${duration !== null ? ` of ${formatClock(duration)}` : ''}`;
    const marks = recording?.marks ?? [];
    const at = currentMark(marks, start, offset);
    marksList.querySelectorAll('button[aria-current]').forEach((b) => b.removeAttribute('aria-current'));
    if (at >= 0) marksList.querySelector(`button[data-index="${at}"]`)?.setAttribute('aria-current', 'true');
  }

  function renderMarks(marks: Mark[]) {
    side.hidden = false;
    fill(
      marksList,
      marks.length === 0
        ? h('li', { class: 'empty' }, 'No clicks, errors or page views were recorded in this session.')
        : marks.map((m, i) => {
            const button = h(
              'button',
              { type: 'button', class: `mark mark-${m.kind}`, 'data-index': String(i), 'data-kind': m.kind, 'data-t': String(m.t) },
              h('span', { class: 'mark-time' }, formatClock(m.t - start)),
              h('span', { class: 'mark-kind' }, MARK_KINDS[m.kind] ?? m.kind),
              h('span', { class: 'mark-label', title: m.label }, m.label || ''),
            );
            button.setAttribute('aria-label', `${markText(m)}, at ${formatClock(m.t - start)}`);
            button.addEventListener('click', () => {
              seek(m.t);
              ctx.replaceQuery(recordingHash(projectKey, recordingId, m.t));
            });
            return h('li', null, button);
          }),
    );
    showClock();
  }

  /** The times beside the marks follow the player's own start once it has said it. */
  function restamp() {
    marksList.querySelectorAll<HTMLElement>('button[data-t]').forEach((b) => {
      const time = b.querySelector('.mark-time');
      if (time) time.textContent = formatClock(Number(b.dataset.t) - start);
    });
  }

  function renderFacts(r: RecordingDetail) {
    const fact = (name: string, value: Node | string) => h('div', null, h('dt', null, name), h('dd', null, value));
    fill(
      facts,
      h(
        'dl',
        { class: 'facts recording-facts' },
        fact('Who', recordingWho(r)),
        fact(
          'Session',
          h('a', { class: 'mono', href: routeHash({ page: 'events', project: projectKey, query: { session_id: r.session_id } }), title: "This session's events" }, r.session_id),
        ),
        fact('First page', r.url ? h('span', { class: 'clip', title: r.url }, r.page || r.url) : r.page || UNKNOWN),
        fact('Started', formatDateTime(r.started_at)),
        fact('Length', r.duration_ms === null ? UNKNOWN : formatClock(r.duration_ms)),
        fact('Friction', formatCount(r.friction)),
        fact('Errors', formatCount(r.errors)),
        fact('Size', `${formatBytes(r.bytes)}${r.kind === 'video' ? ' (video)' : ''}`),
      ),
    );
  }

  function rrwebPlayer(r: RecordingDetail) {
    const frame = h('iframe', {
      class: 'player-frame',
      title: `Replay of the session of ${recordingWho(r)}`,
      src: frameAddress(playerPage(), { src: replayHref(project!.id, r.id), at: openAt }),
    });
    const onMessage = (event: MessageEvent) => {
      if (event.source !== frame.contentWindow || event.origin !== window.location.origin || !isPlayerMessage(event.data)) return;
      const message = event.data;
      if (message.type === 'ready') {
        start = message.start;
        duration = message.end - message.start;
        restamp();
      } else if (message.type === 'time') {
        offset = message.offset;
      } else {
        errors.show(message.message);
      }
      showClock();
    };
    window.addEventListener('message', onMessage);
    stopListening = () => window.removeEventListener('message', onMessage);
    seek = (at) => {
      const message: SeekMessage = { spoor: 'replay', type: 'seek', at };
      frame.contentWindow?.postMessage(message, window.location.origin);
    };
    fill(stage, frame);
  }

  function videoPlayer(r: RecordingDetail) {
    const video = h('video', { class: 'player-video', controls: true, preload: 'metadata', src: replayHref(project!.id, r.id) });
    video.setAttribute('aria-label', `Video of the session of ${recordingWho(r)}`);
    const goTo = (at: number) => {
      video.currentTime = seekOffset(at, start, duration) / 1000;
      void video.play().catch(() => {
        // Autoplay may be refused until the page is used; the position is set all the same.
      });
    };
    video.addEventListener('loadedmetadata', () => {
      if (Number.isFinite(video.duration)) duration = Math.round(video.duration * 1000);
      if (openAt !== null) goTo(openAt);
      showClock();
    });
    video.addEventListener('timeupdate', () => {
      offset = video.currentTime * 1000;
      showClock();
    });
    video.addEventListener('error', () => errors.show('The video could not be played: it may have been deleted, or this browser cannot play WebM.'));
    seek = goTo;
    fill(stage, video);
  }

  function renderDelete(r: RecordingDetail) {
    if (!editable) return;
    const remove = h('button', { type: 'button', class: 'danger' }, 'Delete recording');
    remove.addEventListener('click', () => {
      const yes = h('button', { type: 'button', class: 'danger' }, 'Delete');
      const no = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
      yes.addEventListener('click', async () => {
        yes.disabled = true;
        errors.clear();
        try {
          await api.deleteRecording(project!.id, r.id);
          ctx.navigate(projectHash(projectKey, 'recordings'));
        } catch (e) {
          errors.show(messageOf(e));
          yes.disabled = false;
        }
      });
      no.addEventListener('click', () => {
        renderDelete(r);
        actions.querySelector<HTMLElement>('button')?.focus();
      });
      fill(actions, h('span', { class: 'confirm' }, 'Delete this recording for good?'), yes, no);
      no.focus();
    });
    fill(actions, remove);
  }

  async function load() {
    try {
      const r = await api.recording(project!.id, recordingId, controller.signal);
      if (controller.signal.aborted) return;
      recording = r;
      start = parseTime(r.started_at) ?? r.marks[0]?.t ?? 0;
      duration = r.duration_ms;
      status.textContent = '';
      heading.firstChild!.textContent = `Recording of ${recordingWho(r)} `;
      renderFacts(r);
      renderDelete(r);
      layout.hidden = false;
      if (r.kind === 'video') videoPlayer(r);
      else rrwebPlayer(r);
      renderMarks(r.marks ?? []);
    } catch (e) {
      if (controller.signal.aborted) return;
      status.textContent = '';
      errors.show(messageOf(e));
    }
  }

  void load();
  return {
    title: `Recording · ${project.name}`,
    node: h(
      'div',
      { class: 'page recording-page' },
      h('p', { class: 'back' }, h('a', { href: projectHash(projectKey, 'recordings') }, '← All recordings')),
      h('div', { class: 'page-head' }, heading, actions),
      errors.el,
      status,
      facts,
      layout,
    ),
    dispose() {
      controller.abort();
      stopListening();
    },
  };
}
