// The live tail: new logs matching the filters as they arrive, over the WebSocket /ws/logs. A
// changed filter is sent on the open connection; pause holds arrivals aside (counted) until
// resume; follow keeps the newest in view; the server's drop notices (this tab read too slowly)
// are shown, never hidden.
import { useEffect, useRef, useState } from './hooks.js';
import { api, storedKey } from './api.js';
import {
  ErrorNotice,
  FilterInputs,
  LevelBadge,
  LevelChips,
  appendFilterParams,
  filterObject,
  filtersFromParams,
  formatCount,
  formatTime,
  html,
  navigate,
} from './components.js';

const KEEP = 2000; // rows kept on screen: a tail is for watching, the explorer for reading
const RETRY_MS = [1000, 2000, 5000, 10000];

export default function Tail({ location }) {
  const applied = filtersFromParams(new URLSearchParams(location.search));
  const [draft, setDraft] = useState(applied);
  const [rows, setRows] = useState([]);
  const [state, setState] = useState('connecting');
  const [error, setError] = useState(null);
  const [dropped, setDropped] = useState(0);
  const [paused, setPaused] = useState(false);
  const [held, setHeld] = useState([]);
  const [follow, setFollow] = useState(true);
  const socket = useRef(null);
  const pausedRef = useRef(false);
  const list = useRef(null);
  const seq = useRef(0);
  const reopen = useRef(() => {});
  pausedRef.current = paused;

  // One connection for the page's life; filter changes go over it.
  useEffect(() => {
    let closed = false;
    let attempt = 0;
    let timer = 0;
    let refusal = null; // the server's error message, when it then closes: retrying won't help
    const retry = () => {
      if (!closed) timer = setTimeout(open, RETRY_MS[Math.min(attempt++, RETRY_MS.length - 1)]);
    };
    const open = async () => {
      // A refused upgrade (401, 403) reaches a browser's WebSocket as a bare failure: ask the
      // same question over fetch first, which asks for a key or names the missing scope.
      try {
        await api('/api/v1/logs', { query: { limit: 1, from: '1s' } });
      } catch (e) {
        if (closed) return;
        setError(e);
        setState('closed');
        if (e.status === 0 || e.status >= 500) retry();
        return;
      }
      if (closed) return;
      refusal = null;
      const url = new URL('/ws/logs', location.href);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      url.search = appendFilterParams(new URLSearchParams(), filtersFromParams(new URLSearchParams(window.location.search))).toString();
      const key = storedKey();
      // A browser's WebSocket cannot set headers: the key rides as a subprotocol.
      const ws = new WebSocket(url, key ? ['logpipe', `logpipe.key.${key}`] : ['logpipe']);
      socket.current = ws;
      setState('connecting');
      ws.onopen = () => {
        attempt = 0;
        setState('live');
      };
      ws.onmessage = (event) => {
        let message;
        try {
          message = JSON.parse(event.data);
        } catch {
          return;
        }
        if (message.error) {
          refusal = message.error.message || String(message.error);
          setError(refusal);
          return;
        }
        refusal = null;
        if (message.filter === 'ok') {
          setError(null);
          return;
        }
        if (typeof message.dropped === 'number') {
          setDropped((n) => n + message.dropped);
          return;
        }
        message._seq = ++seq.current;
        if (pausedRef.current) setHeld((h) => h.concat(message).slice(-KEEP));
        else setRows((r) => r.concat(message).slice(-KEEP));
      };
      ws.onclose = () => {
        if (closed) return;
        setState(refusal ? 'refused' : 'closed');
        if (!refusal) retry();
      };
    };
    open();
    reopen.current = () => {
      clearTimeout(timer);
      attempt = 0;
      open();
    };
    return () => {
      closed = true;
      clearTimeout(timer);
      if (socket.current) socket.current.close();
    };
  }, []);

  useEffect(() => {
    if (follow && !paused && list.current) list.current.scrollTop = list.current.scrollHeight;
  }, [rows, follow, paused]);

  const apply = (filters) => {
    navigate(`/ui/tail?${appendFilterParams(new URLSearchParams(), filters)}`, { replace: true });
    const ws = socket.current;
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ filter: filterObject(filters) }));
    else if (!ws || ws.readyState === WebSocket.CLOSED) reopen.current();
  };
  const submit = (event) => {
    event.preventDefault();
    apply(draft);
  };
  const setLevels = (levels) => {
    const next = { ...draft, levels };
    setDraft(next);
    apply(next);
  };
  const togglePause = () => {
    if (paused) {
      setRows((r) => r.concat(held).slice(-KEEP));
      setHeld([]);
    }
    setPaused(!paused);
  };
  const onScroll = () => {
    const el = list.current;
    if (el) setFollow(el.scrollHeight - el.scrollTop - el.clientHeight < 40);
  };

  return html`<section class="page tail">
    <h1 class="visually-hidden">Live tail</h1>
    <form class="filters" role="search" aria-label="Filter the live tail" onSubmit=${submit}>
      <${FilterInputs} filters=${draft} onChange=${setDraft} idPrefix="tail" />
      <div class="filter-actions">
        <${LevelChips} selected=${draft.levels} onChange=${setLevels} />
        <button type="submit">Apply filter</button>
      </div>
    </form>
    <${ErrorNotice} error=${error} onDismiss=${() => setError(null)} />
    ${dropped > 0 &&
    html`<div class="notice warning" role="status">The server dropped ${formatCount(dropped)} logs for this tab: it read them
      too slowly. They are stored; search for them in the explorer.</div>`}
    <div class="summary">
      <span aria-live="polite"><span class=${`dot ${state}`} aria-hidden="true"></span>
        ${{ live: 'Live', connecting: 'Connecting…', refused: 'Refused by the server', closed: 'Disconnected' }[state]}
        ${` · ${formatCount(rows.length)} shown`}${paused ? ` · paused, ${formatCount(held.length)} waiting` : ''}</span>
      <span class="actions">
        <button type="button" aria-pressed=${paused ? 'true' : 'false'} onClick=${togglePause}>${paused ? 'Resume' : 'Pause'}</button>
        <label class="check"><input type="checkbox" checked=${follow} onChange=${(e) => setFollow(e.target.checked)} /> Follow newest</label>
        <button type="button" class="secondary" onClick=${() => setRows([])}>Clear</button>
      </span>
    </div>
    <ol class="tail-list" ref=${list} onScroll=${onScroll} tabindex="0" aria-label="Logs as they arrive, newest last">
      ${rows.map(
        (log) => html`<li key=${log._seq}>
          <span class="c-time">${formatTime(log.ts)}</span> <${LevelBadge} level=${log.level} />
          <span class="c-service">${log.service || ''}</span> <span class="c-device">${log.device_id || ''}</span>
          <span class="c-message">${log.message}</span>
        </li>`
      )}
    </ol>
  </section>`;
}
