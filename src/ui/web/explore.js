// The explorer: a search's filters, a histogram of the matching logs stacked by level (drag to
// zoom), and the matching logs newest first, paged by keyset as the list scrolls and drawn
// virtually (only the rows in view exist), so 100,000 loaded rows scroll like 100. The address
// holds the whole search, in the API's own parameters: /ui/explore?… is /api/v1/logs?….
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from './hooks.js';
import { aborted, api } from './api.js';
import {
  CopyButton,
  ErrorNotice,
  FilterInputs,
  LevelBadge,
  LevelChips,
  LevelHistogram,
  appendFilterParams,
  filtersFromParams,
  formatCount,
  formatTime,
  html,
  navigate,
} from './components.js';

const RANGES = [
  ['5m', 'Last 5 minutes'],
  ['15m', 'Last 15 minutes'],
  ['1h', 'Last hour'],
  ['6h', 'Last 6 hours'],
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
];
const DEFAULT_RANGE = '1h';
const ROW_HEIGHT = 28; // px; the stylesheet's .grid-row height
const FIRST_PAGE = 200; // small: the first rows show at once
const NEXT_PAGE = 1000; // the API's largest page
const OVERSCAN = 12;

// A search as the address says: { from, to, filters }.
function searchOf(location) {
  const params = new URLSearchParams(location.search);
  return { from: params.get('from') || DEFAULT_RANGE, to: params.get('to') || '', filters: filtersFromParams(params) };
}

function paramsOf(search) {
  const params = new URLSearchParams();
  params.set('from', search.from);
  if (search.to) params.set('to', search.to);
  return appendFilterParams(params, search.filters);
}

function addressOf(search) {
  const params = paramsOf(search);
  if (params.get('from') === DEFAULT_RANGE && !search.to) params.delete('from');
  const query = params.toString();
  return `/ui/explore${query ? `?${query}` : ''}`;
}

const isRelative = (value) => /^\d+[smhd]$/.test(value);

// <input type=datetime-local> speaks local time without a zone.
function toLocalInput(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
function fromLocalInput(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

function TimeRange({ search, onChange }) {
  const relative = isRelative(search.from) && !search.to;
  const [custom, setCustom] = useState(!relative);
  const [from, setFrom] = useState(relative ? '' : toLocalInput(search.from));
  const [to, setTo] = useState(relative || !search.to ? '' : toLocalInput(search.to));
  useEffect(() => {
    setCustom(!relative);
    if (!relative) {
      setFrom(toLocalInput(search.from));
      setTo(search.to ? toLocalInput(search.to) : '');
    }
  }, [search.from, search.to]);
  const choose = (event) => {
    const value = event.target.value;
    if (value === 'custom') {
      setCustom(true);
      return;
    }
    setCustom(false);
    onChange({ from: value, to: '' });
  };
  const apply = () => {
    const f = fromLocalInput(from);
    if (f) onChange({ from: f, to: to ? fromLocalInput(to) : '' });
  };
  return html`<div class="time-range">
    <label class="field"><span>Time range</span>
      <select id="explore-range" value=${custom ? 'custom' : search.from} onChange=${choose}>
        ${RANGES.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        ${relative && !RANGES.some(([value]) => value === search.from) && html`<option value=${search.from}>Last ${search.from}</option>`}
        <option value="custom">Between…</option>
      </select>
    </label>
    ${custom &&
    html`<label class="field"><span>From</span>
        <input id="explore-from" type="datetime-local" step="1" value=${from} onInput=${(e) => setFrom(e.target.value)} /></label>
      <label class="field"><span>To (empty: now)</span>
        <input id="explore-to" type="datetime-local" step="1" value=${to} onInput=${(e) => setTo(e.target.value)} /></label>
      <button type="button" class="secondary" onClick=${apply}>Apply range</button>`}
  </div>`;
}

// The record as the API gave it, pretty-printed: every value is a text node, never markup.
function Detail({ log, onClose, onFilter }) {
  const close = useRef(null);
  useEffect(() => {
    if (close.current) close.current.focus();
  }, [log && log.id]);
  if (!log) return null;
  const json = JSON.stringify(log, null, 2);
  const filterBy = (name) =>
    log[name] &&
    html`<button type="button" class="secondary" onClick=${() => onFilter(name, log[name])}>Only ${name === 'device_id' ? 'this device' : `this ${name}`}</button>`;
  return html`<aside class="detail" aria-label="Log record" onKeyDown=${(e) => e.key === 'Escape' && onClose()}>
    <div class="detail-head">
      <h2>Log ${log.id}</h2>
      <button type="button" ref=${close} class="secondary" onClick=${onClose} aria-label="Close the record">Close</button>
    </div>
    <div class="actions">
      <${CopyButton} text=${json} label="Copy JSON" />
      <${CopyButton} text=${log.message} label="Copy message" />
      ${filterBy('service')} ${filterBy('device_id')} ${filterBy('host')}
    </div>
    <pre class="json" tabindex="0" aria-label="The record as JSON">${json}</pre>
  </aside>`;
}

// Rows in view only: a tall spacer keeps the scrollbar true to the whole list.
function Results({ rows, selectedId, onOpen, onNearEnd, loading, done }) {
  const box = useRef(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const [active, setActive] = useState(0);
  const focusPending = useRef(false);
  const frame = useRef(0);
  useLayoutEffect(() => {
    if (!box.current) return undefined;
    const observer = new ResizeObserver(() => setHeight(box.current ? box.current.clientHeight : 600));
    observer.observe(box.current);
    return () => observer.disconnect();
  }, []);
  useEffect(() => {
    setActive(0);
    if (box.current) box.current.scrollTop = 0;
    setScrollTop(0);
  }, [rows.length === 0]);
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  useEffect(() => {
    if (last >= rows.length - OVERSCAN * 4) onNearEnd();
  }, [last, rows.length]);
  useEffect(() => {
    if (!focusPending.current || !box.current) return;
    const row = box.current.querySelector(`[data-index="${active}"]`);
    if (row) {
      row.focus({ preventScroll: true });
      focusPending.current = false;
    }
  });
  const onScroll = () => {
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(() => box.current && setScrollTop(box.current.scrollTop));
  };
  const moveTo = (index) => {
    const next = Math.max(0, Math.min(rows.length - 1, index));
    setActive(next);
    focusPending.current = true;
    const top = next * ROW_HEIGHT;
    const el = box.current;
    if (top < el.scrollTop + ROW_HEIGHT) el.scrollTop = Math.max(0, top - ROW_HEIGHT);
    else if (top + 2 * ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + 2 * ROW_HEIGHT - el.clientHeight;
    setScrollTop(el.scrollTop);
  };
  const page = Math.max(1, Math.floor(height / ROW_HEIGHT) - 1);
  const onKeyDown = (event) => {
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (event.key in moves) moveTo(active + moves[event.key]);
    else if (event.key === 'Home') moveTo(0);
    else if (event.key === 'End') moveTo(rows.length - 1);
    else if (event.key === 'Enter' || event.key === ' ') onOpen(rows[active]);
    else if (event.key === 'Escape') onOpen(null);
    else return;
    event.preventDefault();
  };
  const visible = [];
  for (let i = first; i < last; i++) {
    const log = rows[i];
    visible.push(html`<div role="row" class=${log.id === selectedId ? 'grid-row selected' : 'grid-row'} key=${log.id}
        data-index=${i} data-id=${log.id} aria-rowindex=${i + 2} aria-selected=${log.id === selectedId ? 'true' : 'false'}
        tabindex=${i === active ? 0 : -1} style=${{ top: `${i * ROW_HEIGHT}px` }}
        onClick=${() => { setActive(i); onOpen(log); }} onFocus=${() => setActive(i)}>
      <span role="gridcell" class="c-time">${formatTime(log.ts)}</span>
      <span role="gridcell" class="c-level"><${LevelBadge} level=${log.level} /></span>
      <span role="gridcell" class="c-service">${log.service || ''}</span>
      <span role="gridcell" class="c-device">${log.device_id || ''}</span>
      <span role="gridcell" class="c-host">${log.host || ''}</span>
      <span role="gridcell" class="c-message">${log.message}</span>
    </div>`);
  }
  return html`<div class="grid" role="grid" aria-label="Matching logs, newest first" aria-rowcount=${done ? rows.length + 1 : -1}
      aria-busy=${loading ? 'true' : 'false'}>
    <div role="rowgroup" class="grid-head">
      <div role="row" aria-rowindex="1" class="grid-row head">
        <span role="columnheader" class="c-time">Time</span><span role="columnheader" class="c-level">Level</span>
        <span role="columnheader" class="c-service">Service</span><span role="columnheader" class="c-device">Device</span>
        <span role="columnheader" class="c-host">Host</span><span role="columnheader" class="c-message">Message</span>
      </div>
    </div>
    <div role="rowgroup" class="grid-body" ref=${box} onScroll=${onScroll} onKeyDown=${onKeyDown}>
      <div class="grid-spacer" style=${{ height: `${rows.length * ROW_HEIGHT}px` }}>${visible}</div>
    </div>
  </div>`;
}

async function download(search, format, setStatus) {
  const params = paramsOf(search);
  params.set('format', format);
  setStatus(`Exporting ${format.toUpperCase()}…`);
  try {
    const response = await api('/api/v1/logs/export', { query: params, raw: true });
    const blob = await response.blob();
    const disposition = response.headers.get('Content-Disposition') || '';
    const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || `logs.${format}`;
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    setStatus(`Exported ${name} (${formatCount(blob.size)} bytes)`);
  } catch (error) {
    setStatus(`Export failed: ${error.summary || error.message}`);
  }
}

export default function Explore({ location, theme }) {
  const search = useMemo(() => searchOf(location), [location.search]);
  const [draft, setDraft] = useState(search.filters);
  const [histogram, setHistogram] = useState(null);
  const [rows, setRows] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [loading, setLoading] = useState(true); // until the first answer: no "No logs" flash
  const [error, setError] = useState(null);
  const [selected, setSelected] = useState(null);
  const [status, setStatus] = useState('');
  const generation = useRef(0);
  // The cursor whose page is being fetched. A ref, not state: two scroll events can both ask for
  // the next page before a re-render shows the first ask, and the same page must not be added
  // twice.
  const requested = useRef(null);
  const controller = useRef(null);
  const started = useRef(0);
  const [firstMs, setFirstMs] = useState(null);

  useEffect(() => setDraft(search.filters), [location.search]);

  // A new search: histogram and first page at once; older answers are dropped.
  useEffect(() => {
    const id = ++generation.current;
    requested.current = null;
    if (controller.current) controller.current.abort();
    const abort = new AbortController();
    controller.current = abort;
    started.current = performance.now();
    setRows([]);
    setCursor(null);
    setError(null);
    setLoading(true);
    setFirstMs(null);
    const params = paramsOf(search);
    api('/api/v1/logs/histogram', { query: params, signal: abort.signal })
      .then((answer) => id === generation.current && setHistogram(answer))
      .catch((e) => id === generation.current && !aborted(e) && (setHistogram(null), setError(e)));
    const first = new URLSearchParams(params);
    first.set('limit', FIRST_PAGE);
    api('/api/v1/logs', { query: first, signal: abort.signal })
      .then((page) => {
        if (id !== generation.current) return;
        setRows(page.logs);
        setCursor(page.next_cursor);
        setFirstMs(Math.round(performance.now() - started.current));
        setLoading(false);
      })
      .catch((e) => {
        if (id !== generation.current || aborted(e)) return;
        setError(e);
        setLoading(false);
      });
    return () => abort.abort();
  }, [location.search]);

  const loadMore = () => {
    if (!cursor || requested.current === cursor || rows.length === 0) return;
    requested.current = cursor;
    const id = generation.current;
    const params = paramsOf(search);
    params.set('limit', NEXT_PAGE);
    params.set('cursor', cursor);
    setLoading(true);
    api('/api/v1/logs', { query: params, signal: controller.current && controller.current.signal })
      .then((page) => {
        if (id !== generation.current) return;
        setRows((old) => old.concat(page.logs));
        setCursor(page.next_cursor);
        setLoading(false);
      })
      .catch((e) => {
        if (id !== generation.current || aborted(e)) return;
        setError(e);
        setLoading(false);
      });
  };

  const go = (next, replace = false) => navigate(addressOf(next), { replace });
  const submit = (event) => {
    event.preventDefault();
    go({ ...search, filters: draft });
  };
  const setLevels = (levels) => go({ ...search, filters: { ...draft, levels } });
  const setRange = (range) => go({ ...search, ...range, filters: draft });
  const zoom = (fromMs, toMs) => go({ ...search, from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), filters: draft });
  const zoomOut = () => {
    const to = search.to ? Date.parse(search.to) : Date.now();
    const from = isRelative(search.from) ? to - relativeMs(search.from) : Date.parse(search.from);
    const span = Math.max(60000, to - from);
    const end = Math.min(Date.now(), to + span / 2);
    zoom(end - span * 2, end);
  };
  const filterBy = (name, value) => go({ ...search, filters: { ...search.filters, [name]: value } });
  const closeDetail = () => {
    setSelected(null);
    const row = document.querySelector('.grid-body [role="row"][tabindex="0"]');
    if (row) row.focus({ preventScroll: true });
  };
  const total = histogram ? histogram.total : null;

  return html`<section class="page explore">
    <h1 class="visually-hidden">Explore logs</h1>
    <form class="filters" role="search" aria-label="Search logs" onSubmit=${submit}>
      <${TimeRange} search=${search} onChange=${setRange} />
      <${FilterInputs} filters=${draft} onChange=${setDraft} idPrefix="explore" />
      <div class="filter-actions">
        <${LevelChips} selected=${draft.levels} onChange=${setLevels} />
        <button type="submit">Search</button>
      </div>
    </form>
    <${ErrorNotice} error=${error} onDismiss=${() => setError(null)} />
    <div class="summary" aria-live="polite">
      <span>${total === null ? '' : `${formatCount(total)} logs match`}
        ${rows.length > 0 ? ` · ${formatCount(rows.length)} loaded${cursor ? '' : ' (all)'}` : ''}
        ${firstMs !== null ? ` · first rows in ${firstMs} ms` : ''}</span>
      <span class="actions">
        <button type="button" class="secondary" onClick=${zoomOut}>Zoom out</button>
        <button type="button" class="secondary" onClick=${() => download(search, 'ndjson', setStatus)}>Export NDJSON</button>
        <button type="button" class="secondary" onClick=${() => download(search, 'csv', setStatus)}>Export CSV</button>
        ${status && html`<span class="muted">${status}</span>`}
      </span>
    </div>
    ${histogram
      ? html`<${LevelHistogram} buckets=${histogram.buckets} intervalSeconds=${histogram.interval_seconds}
      onSelect=${zoom} label=${`Matching logs per ${histogram.interval}, by level; drag across to zoom`} theme=${theme} />`
      : !error && html`<figure class="histogram" aria-hidden="true"></figure>`}
    <div class=${selected ? 'results with-detail' : 'results'}>
      <${Results} rows=${rows} selectedId=${selected && selected.id} onOpen=${setSelected} onNearEnd=${loadMore}
        loading=${loading} done=${!cursor && !loading} />
      <${Detail} log=${selected} onClose=${closeDetail} onFilter=${filterBy} />
    </div>
    ${!loading && rows.length === 0 && !error && html`<p class="muted empty">No logs match this search.</p>`}
  </section>`;
}

function relativeMs(value) {
  const units = { s: 1000, m: 60000, h: 3600000, d: 86400000 };
  return parseInt(value, 10) * units[value.slice(-1)];
}
