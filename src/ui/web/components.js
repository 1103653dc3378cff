// What several pages share: the template tag, levels and their colours, times, the filter
// fields, error and copy widgets, and the stacked-by-level bar chart.
import { h } from './preact.js';
import { useEffect, useRef, useState } from './hooks.js';
import htm from './htm.js';

// htm's tagged templates build Preact elements: no JSX, so no build step.
export const html = htm.bind(h);

// uPlot (the largest file by far) is kept off the first rows' path: it loads beside the first
// search, and a chart is drawn once it is there.
const uPlotReady = import('./uplot.js').then((module) => module.default);

// Moves to another address inside the UI without reloading; `replace` keeps history short for
// every keystroke-level change (a filter edit), a search or a page change adds an entry.
export function navigate(url, { replace = false } = {}) {
  if (url === location.pathname + location.search) return;
  history[replace ? 'replaceState' : 'pushState'](null, '', url);
  window.dispatchEvent(new Event('logpipe:navigate'));
}

export const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL', 'FATAL'];

// A level's colour as the stylesheet defines it (--level-error, …), so both themes apply.
export function levelColor(level) {
  const name = `--level-${String(level).toLowerCase()}`;
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

export function LevelBadge({ level }) {
  return html`<span class=${`level level-${String(level).toLowerCase()}`}>${level}</span>`;
}

// "2026-11-27 04:12:33.120" in the browser's zone: sortable and short.
export function formatTime(value) {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value ?? '');
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`
  );
}

// "3 min ago", for last-seen columns.
export function ago(value, now = Date.now()) {
  const seconds = Math.max(0, Math.round((now - new Date(value).getTime()) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

export function formatCount(n) {
  return Number(n || 0).toLocaleString('en-US');
}

// The filters every search shares, as the API names them. `attrs` is edited as one text field
// ("region=eu, http.status=500") and sent as attrs.<path>=<value> parameters.
export const FILTER_FIELDS = [
  { name: 'service', label: 'Service' },
  { name: 'app', label: 'App' },
  { name: 'device_id', label: 'Device' },
  { name: 'host', label: 'Host' },
];

// Filter state from URL parameters: { service, app, device_id, host, q, attrs, levels }.
export function filtersFromParams(params) {
  const filters = { q: params.get('q') || '', levels: params.getAll('level'), attrs: '' };
  for (const { name } of FILTER_FIELDS) filters[name] = params.get(name) || '';
  const attrs = [];
  for (const [key, value] of params) if (key.startsWith('attrs.')) attrs.push(`${key.slice(6)}=${value}`);
  filters.attrs = attrs.join(', ');
  return filters;
}

// The same filter state as API parameters (appended to `params`); empty fields are left out.
export function appendFilterParams(params, filters) {
  for (const { name } of FILTER_FIELDS) if (filters[name]) params.append(name, filters[name]);
  for (const level of filters.levels || []) params.append('level', level);
  if (filters.q) params.append('q', filters.q);
  for (const pair of (filters.attrs || '').split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) params.append(`attrs.${pair.slice(0, eq).trim()}`, pair.slice(eq + 1).trim());
  }
  return params;
}

// The same filter state as an object of the API's filters, a repeated one as an array (the
// live tail's filter message, an alert rule's filter).
export function filterObject(filters) {
  const object = {};
  for (const [key, value] of appendFilterParams(new URLSearchParams(), filters)) {
    if (key in object) object[key] = [].concat(object[key], value);
    else object[key] = value;
  }
  return object;
}

// The reverse: filter state from such an object.
export function filtersFromObject(object) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(object || {}))
    for (const one of [].concat(value)) params.append(key, String(one));
  return filtersFromParams(params);
}

// The explorer's address for these API parameters ({service: 'api', from: '1h'}): the one way a
// link is built from data, so a value is always a parameter's text, never a scheme or path.
export function exploreHref(params) {
  const query = new URLSearchParams(params).toString();
  return query ? `/ui/explore?${query}` : '/ui/explore';
}

// Level chips: toggle buttons, pressed = included. None pressed means every level.
export function LevelChips({ selected, onChange }) {
  const toggle = (level) =>
    onChange(selected.includes(level) ? selected.filter((l) => l !== level) : [...selected, level]);
  return html`<div class="chips" role="group" aria-label="Levels">
    ${LEVELS.map(
      (level) => html`<button type="button" class=${`chip level-${level.toLowerCase()}`}
        aria-pressed=${selected.includes(level) ? 'true' : 'false'} onClick=${() => toggle(level)}>${level}</button>`
    )}
  </div>`;
}

// The text filters (service, app, device, host, words, attributes) as labelled inputs.
export function FilterInputs({ filters, onChange, idPrefix }) {
  const set = (name) => (event) => onChange({ ...filters, [name]: event.target.value });
  const field = (name, label, placeholder, wide) => html`<label class=${wide ? 'field wide' : 'field'}>
      <span>${label}</span>
      <input id=${`${idPrefix}-${name}`} name=${name} value=${filters[name] || ''} placeholder=${placeholder}
        autocomplete="off" spellcheck=${false} onInput=${set(name)} />
    </label>`;
  return html`
    ${field('q', 'Text', 'words or "a phrase" in the message', true)}
    ${FILTER_FIELDS.map(({ name, label }) => field(name, label, 'any'))}
    ${field('attrs', 'Attributes', 'key=value, http.status=500', true)}`;
}

export function ErrorNotice({ error, onDismiss }) {
  if (!error) return null;
  const text = typeof error === 'string' ? error : error.summary || error.message;
  return html`<div class="notice error" role="alert">
    <span>${text}</span>
    ${onDismiss && html`<button type="button" class="link" onClick=${onDismiss}>Dismiss</button>`}
  </div>`;
}

// Copies `text` and says so for a moment (and to screen readers).
export function CopyButton({ text, label }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(typeof text === 'function' ? text() : text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  };
  return html`<button type="button" class="secondary" onClick=${copy} aria-live="polite">
    ${copied ? 'Copied' : label}</button>`;
}

// A destructive action in two steps, both buttons: the first asks `question` with a confirm
// and a cancel button (cancel has the focus, so Enter twice does nothing harmful).
export function ConfirmButton({ label, question, confirmLabel, onConfirm, disabled, id }) {
  const [asking, setAsking] = useState(false);
  const cancel = useRef(null);
  const start = useRef(null);
  const refocus = useRef(false);
  useEffect(() => {
    if (asking && cancel.current) cancel.current.focus();
    else if (!asking && refocus.current && start.current) {
      refocus.current = false;
      start.current.focus();
    }
  }, [asking]);
  if (!asking)
    return html`<button type="button" class="danger" id=${id} ref=${start} disabled=${disabled}
      onClick=${() => setAsking(true)}>${label}</button>`;
  return html`<span class="confirm" role="group" aria-label=${question}>
    <span>${question}</span>
    <button type="button" class="danger" onClick=${() => { setAsking(false); onConfirm(); }}>${confirmLabel || label}</button>
    <button type="button" class="secondary" ref=${cancel} onClick=${() => { refocus.current = true; setAsking(false); }}>Cancel</button>
  </span>`;
}

// Runs `callback` every `ms` while the page shows (and once at once).
export function useInterval(callback, ms, deps = []) {
  const saved = useRef(callback);
  saved.current = callback;
  useEffect(() => {
    saved.current();
    const timer = setInterval(() => {
      if (!document.hidden) saved.current();
    }, ms);
    return () => clearInterval(timer);
  }, deps);
}

// Bars of counts per time bucket, stacked by level (the explorer's histogram, the dashboard's
// logs over time). `buckets`: [{start, total, by_level}], `intervalSeconds` their width.
// `onSelect(fromMs, toMs)`: a click-drag across the chart selected that range (zoom).
export function LevelHistogram({ buckets, intervalSeconds, onSelect, label, theme, height = 160 }) {
  const box = useRef(null);
  const selectRef = useRef(onSelect);
  selectRef.current = onSelect;
  useEffect(() => {
    let cancelled = false;
    let plot = null;
    let resize = null;
    uPlotReady.then((uPlot) => {
      if (cancelled || !box.current) return;
      const select = onSelect ? (fromMs, toMs) => selectRef.current(fromMs, toMs) : null;
      const { data, levels } = histogramData(buckets);
      const options = histogramOptions(uPlot, { width: box.current.clientWidth || 600, height, intervalSeconds, levels, select });
      plot = new uPlot(options, data, box.current);
      resize = new ResizeObserver(() => box.current && plot.setSize({ width: box.current.clientWidth, height }));
      resize.observe(box.current);
    });
    return () => {
      cancelled = true;
      if (resize) resize.disconnect();
      if (plot) plot.destroy();
    };
  }, [buckets, intervalSeconds, height, theme]);
  const total = buckets.reduce((sum, b) => sum + (b.total || 0), 0);
  return html`<figure class="histogram">
    <div ref=${box} role="img" aria-label=${`${label}: ${formatCount(total)} logs in ${buckets.length} bars`}></div>
  </figure>`;
}

// Stacked: each level's series is its count plus every level's below it, drawn largest first.
function histogramData(buckets) {
  const xs = buckets.map((b) => Date.parse(b.start) / 1000);
  const present = LEVELS.filter((level) => buckets.some((b) => (b.by_level || {})[level]));
  const stacks = [];
  let running = xs.map(() => 0);
  for (const level of present) {
    running = running.map((sum, i) => sum + ((buckets[i].by_level || {})[level] || 0));
    stacks.push({ level, values: running });
  }
  stacks.reverse();
  return { data: [xs, ...stacks.map(({ values }) => values)], levels: stacks.map(({ level }) => level) };
}

function histogramOptions(uPlot, { width, height, intervalSeconds, levels, select }) {
  const bars = uPlot.paths.bars({ size: [0.9, 64], align: 1 });
  const axis = { stroke: cssVar('--muted'), grid: { stroke: cssVar('--grid') }, ticks: { stroke: cssVar('--grid') } };
  return {
    width,
    height,
    cursor: { drag: { x: !!select, y: false, setScale: false }, points: { show: false } },
    select: { show: !!select },
    legend: { show: false },
    scales: {
      x: { time: true, range: (u, min, max) => [min, max + intervalSeconds] },
      y: { range: (u, min, max) => [0, Math.max(1, max)] },
    },
    axes: [axis, { ...axis, size: 50 }],
    series: [
      {},
      ...levels.map((level) => ({ label: level, fill: levelColor(level), stroke: levelColor(level), width: 0, paths: bars, points: { show: false } })),
    ],
    hooks: {
      setSelect: [
        (u) => {
          if (u.select.width < 3 || !select) return;
          const from = u.posToVal(u.select.left, 'x');
          const to = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
          select(Math.floor(from * 1000), Math.ceil(to * 1000));
        },
      ],
    },
  };
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
