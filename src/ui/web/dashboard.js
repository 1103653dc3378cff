// The dashboard: what the pipeline does now, at a glance — ingest rate, logs by level over the
// last 24 h, the top services and apps, recent devices, the queue and the health of each
// dependency. Each source is fetched on its own every 10 s (not while the tab is hidden), so one
// that fails (the queue is the operator's: another key gets 403) says so in its card only.
import { useRef, useState } from './hooks.js';
import { api } from './api.js';
import { ErrorNotice, LevelHistogram, exploreHref, formatCount, formatTime, html, navigate, useInterval } from './components.js';

const REFRESH_MS = 10000;
const TOP = 10;

// Fetches `load()` every 10 s: { value, error, at } of the latest answer; an error keeps the last
// good value (a blip does not empty the card) but is shown. A 403 stops the polling: this key
// will not get a different answer in 10 s (the queue is the operator's).
function usePolled(load) {
  const [state, setState] = useState({ value: null, error: null, at: null });
  const refused = useRef(false);
  useInterval(() => {
    if (refused.current) return;
    load()
      .then((value) => setState({ value, error: null, at: new Date() }))
      .catch((error) => {
        refused.current = error.status === 403;
        setState((old) => ({ ...old, error }));
      });
  }, REFRESH_MS);
  return state;
}

function Card({ label, value, note }) {
  return html`<div class="card">
    <div class="value">${value}</div>
    <div class="label">${label}</div>
    ${note && html`<div class="label">${note}</div>`}
  </div>`;
}

const perMinute = (count, minutes) => {
  const rate = count / minutes;
  return rate >= 100 ? formatCount(Math.round(rate)) : rate.toFixed(1);
};

function Rates({ hour, day }) {
  if (!hour || !day) return null;
  // The newest bucket is the minute still under way: the last complete one is the one before.
  const minutes = hour.histogram || [];
  const last = minutes.length > 1 ? minutes[minutes.length - 2] : null;
  return html`<div class="cards">
    <${Card} label="logs/min, last hour" value=${perMinute(hour.total_logs, 60)} />
    <${Card} label="logs/min, last 24 h" value=${perMinute(day.total_logs, 1440)} />
    <${Card} label="logs in the last complete minute" value=${last ? formatCount(last.total) : '–'} />
    <${Card} label="logs in the last 24 h" value=${formatCount(day.total_logs)} />
    <${Card} label="devices, last 24 h" value=${formatCount(day.device_count)} />
  </div>`;
}

// Name → count, largest first; each name opens the explorer filtered by it over the last 24 h.
function TopList({ title, counts, param }) {
  const rows = Object.entries(counts || {})
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP);
  return html`<section class="panel" aria-labelledby=${`top-${param}`}>
    <h2 id=${`top-${param}`}>${title}</h2>
    ${rows.length === 0
      ? html`<p class="muted">None in the last 24 h.</p>`
      : html`<table class="list">
          <thead><tr><th scope="col">Name</th><th scope="col" class="num">Logs</th></tr></thead>
          <tbody>
            ${rows.map(
              ([name, count]) => html`<tr key=${name}>
                <td>${name === '' ? html`<span class="muted">(none)</span>` : html`<a href=${exploreHref({ [param]: name, from: '24h' })}>${name}</a>`}</td>
                <td class="num">${formatCount(count)}</td>
              </tr>`
            )}
          </tbody>
        </table>`}
  </section>`;
}

function Devices({ devices }) {
  return html`<section class="panel" aria-labelledby="recent-devices">
    <h2 id="recent-devices">Recent devices</h2>
    ${devices.length === 0
      ? html`<p class="muted">None in the last 24 h.</p>`
      : html`<ul class="plain">
          ${devices.map((id) => html`<li key=${id}><a href=${exploreHref({ device_id: id, from: '24h' })}>${id}</a></li>`)}
        </ul>`}
    <p><a href="/ui/devices">All devices</a></p>
  </section>`;
}

function Queue({ queue }) {
  const q = queue.value;
  return html`<section class="panel" aria-labelledby="queue">
    <h2 id="queue">Queue</h2>
    ${queue.error && html`<${ErrorNotice} error=${queue.error} />`}
    ${q &&
    html`<div class="cards">
      <${Card} label="in the stream (not yet stored)" value=${formatCount(q.length)} />
      <${Card} label="pending (delivered, not acknowledged)" value=${formatCount(q.pending_messages)} />
      <${Card} label="lag (not yet delivered)" value=${formatCount(q.lag)} />
      <${Card} label="consumers" value=${formatCount(q.consumers)} />
      <div class="card">
        <div class="value">${formatCount(q.dlq ? q.dlq.length : 0)}</div>
        <div class="label"><a href="/ui/dead-letters">dead letters</a></div>
      </div>
    </div>`}
  </section>`;
}

const CHECKS = [
  ['redis', 'Redis'],
  ['postgres', 'PostgreSQL'],
  ['worker', 'Worker'],
];

function Health({ health }) {
  const h = health.value;
  return html`<section class="panel" aria-labelledby="health">
    <h2 id="health">Health</h2>
    ${health.error && html`<${ErrorNotice} error=${health.error} />`}
    ${h &&
    html`<div class="cards">
      <${Card} label="status" value=${h.status} note=${h.instance ? `instance ${h.instance}` : ''} />
      ${CHECKS.filter(([name]) => name in (h.checks || {})).map(
        ([name, label]) => html`<div class="card" key=${name}>
          <div class=${h.checks[name] ? 'value up' : 'value down'}>${h.checks[name] ? '✓ up' : '✗ down'}</div>
          <div class="label">${label}</div>
        </div>`
      )}
      ${h.ingest && html`<${Card} label="ingest goes to" value=${h.ingest} />`}
    </div>`}
  </section>`;
}

export default function Dashboard({ theme }) {
  const day = usePolled(() => api('/api/v1/stats', { query: { from: '24h', devices: TOP } }));
  const hour = usePolled(() => api('/api/v1/stats', { query: { from: '1h', interval: '1m', devices: 0 } }));
  const queue = usePolled(() => api('/api/v1/queue'));
  const health = usePolled(() => api('/health', { accept: [503] }));
  const stats = day.value;
  const zoom = (fromMs, toMs) =>
    navigate(exploreHref({ from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() }));

  return html`<section class="page dashboard">
    <div class="page-head">
      <h1>Dashboard</h1>
      <span class="muted" aria-live="polite">${day.at ? `Updated ${formatTime(day.at).slice(11, 19)} · every 10 s` : 'Loading…'}</span>
    </div>
    <${ErrorNotice} error=${day.error || hour.error} />
    <section aria-labelledby="ingest">
      <h2 id="ingest">Ingest</h2>
      <${Rates} hour=${hour.value} day=${stats} />
    </section>
    ${stats &&
    html`<section aria-labelledby="levels">
      <h2 id="levels">Logs by level, last 24 h</h2>
      <${LevelHistogram} buckets=${stats.histogram || []} intervalSeconds=${intervalSeconds(stats.interval)} onSelect=${zoom}
        label=${`Logs per ${stats.interval}, by level; drag across to open the explorer for that range`} theme=${theme} />
      <p class="muted">Drag across the chart to open those logs in the explorer.</p>
    </section>`}
    <div class="columns">
      ${stats && html`<${TopList} title="Top services" counts=${stats.by_service} param="service" />`}
      ${stats && html`<${TopList} title="Top apps" counts=${stats.by_app} param="app" />`}
      ${stats && html`<${Devices} devices=${stats.recent_devices || []} />`}
    </div>
    <${Queue} queue=${queue} />
    <${Health} health=${health} />
  </section>`;
}

function intervalSeconds(interval) {
  return { '1m': 60, '5m': 300, '1h': 3600, '1d': 86400 }[interval] || 60;
}
