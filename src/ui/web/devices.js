// Devices: each one's first and last seen and log count; those silent for longer than the chosen
// span are marked (in words, not only by colour). A device opens the explorer filtered to it.
import { useMemo, useState } from './hooks.js';
import { api } from './api.js';
import { ErrorNotice, ago, exploreHref, formatCount, formatTime, html, useInterval } from './components.js';

const LIMIT = 1000; // the most recently seen; the API's paging is a limit, not a cursor
const SILENCES = [
  [5 * 60000, '5 minutes'],
  [15 * 60000, '15 minutes'],
  [3600000, '1 hour'],
  [86400000, '24 hours'],
];
const SORTS = {
  last_seen: { label: 'Last seen', compare: (a, b) => Date.parse(b.last_seen) - Date.parse(a.last_seen) },
  log_count: { label: 'Logs', compare: (a, b) => b.log_count - a.log_count },
  device_id: { label: 'Device', compare: (a, b) => a.device_id.localeCompare(b.device_id) },
};

// The explorer for a device, over the shortest of its ranges that reaches back to the device's
// last log (the explorer's default is the last hour: a silent device would show nothing).
function deviceHref(device, now) {
  const age = now - Date.parse(device.last_seen);
  const range = [['6h', 6 * 3600000], ['24h', 86400000], ['7d', 7 * 86400000], ['30d', 30 * 86400000]].find(([, ms]) => age < ms);
  if (age < 3600000) return exploreHref({ device_id: device.device_id });
  return exploreHref({ device_id: device.device_id, from: range ? range[0] : device.first_seen });
}

// A column header that sorts by its column: a button, and aria-sort says which one is active.
function SortHeader({ name, sort, onSort, className }) {
  return html`<th scope="col" class=${className} aria-sort=${sort === name ? (name === 'device_id' ? 'ascending' : 'descending') : undefined}>
    <button type="button" class="link sort" onClick=${() => onSort(name)}>
      ${SORTS[name].label}${sort === name ? (name === 'device_id' ? ' ▲' : ' ▼') : ''}</button>
  </th>`;
}

export default function Devices() {
  const [devices, setDevices] = useState(null);
  const [error, setError] = useState(null);
  const [silence, setSilence] = useState(SILENCES[1][0]);
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState('last_seen');
  const [now, setNow] = useState(Date.now());

  useInterval(() => {
    api('/api/v1/devices', { query: { limit: LIMIT, sort: 'last_seen' } })
      .then((answer) => {
        setDevices(answer.devices);
        setNow(Date.now());
        setError(null);
      })
      .catch(setError);
  }, 30000);

  const shown = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const list = (devices || []).filter((d) => !needle || d.device_id.toLowerCase().includes(needle));
    return list.sort(SORTS[sort].compare);
  }, [devices, filter, sort]);
  const isSilent = (d) => now - Date.parse(d.last_seen) > silence;
  const silentCount = shown.filter(isSilent).length;
  const silenceLabel = SILENCES.find(([ms]) => ms === silence)[1];

  return html`<section class="page devices">
    <h1>Devices</h1>
    <form class="filters" role="search" aria-label="Filter devices" onSubmit=${(e) => e.preventDefault()}>
      <label class="field wide"><span>Device id contains</span>
        <input id="devices-filter" type="search" value=${filter} autocomplete="off" spellcheck=${false}
          onInput=${(e) => setFilter(e.target.value)} /></label>
      <label class="field"><span>Silent for more than</span>
        <select id="devices-silence" value=${silence} onChange=${(e) => setSilence(Number(e.target.value))}>
          ${SILENCES.map(([ms, label]) => html`<option value=${ms}>${label}</option>`)}
        </select></label>
    </form>
    <${ErrorNotice} error=${error} />
    ${devices &&
    html`<p class="summary" aria-live="polite">
      ${formatCount(shown.length)} devices${filter ? ' match' : ''} · ${formatCount(silentCount)} silent for more than ${silenceLabel}
      ${devices.length >= LIMIT ? ` · only the ${formatCount(LIMIT)} most recently seen are listed` : ''}</p>`}
    ${devices && devices.length === 0 && html`<p class="muted">No device has sent logs yet.</p>`}
    ${shown.length > 0 &&
    html`<table class="list">
      <caption class="visually-hidden">Devices, sorted by ${SORTS[sort].label.toLowerCase()}</caption>
      <thead><tr>
        <${SortHeader} name="device_id" sort=${sort} onSort=${setSort} />
        <th scope="col">First seen</th>
        <${SortHeader} name="last_seen" sort=${sort} onSort=${setSort} />
        <${SortHeader} name="log_count" sort=${sort} onSort=${setSort} className="num" />
        <th scope="col">State</th>
      </tr></thead>
      <tbody>
        ${shown.map((d) => {
          const silent = isSilent(d);
          return html`<tr key=${d.device_id} class=${silent ? 'silent' : undefined} data-device-id=${d.device_id}>
            <td><a href=${deviceHref(d, now)}>${d.device_id}</a></td>
            <td>${formatTime(d.first_seen)}</td>
            <td>${formatTime(d.last_seen)} <span class="muted">(${ago(d.last_seen, now)})</span></td>
            <td class="num">${formatCount(d.log_count)}</td>
            <td>${silent ? html`<span class="tag warn">silent</span>` : html`<span class="muted">active</span>`}</td>
          </tr>`;
        })}
      </tbody>
    </table>`}
  </section>`;
}
