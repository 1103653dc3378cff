// Alerts: the tenant's rules (create, edit — a PUT replaces the whole rule —, delete), and the
// history of their episodes with each notification's deliveries. The server validates: a 422
// names the field, and its message is shown beside that field; the form keeps what was typed.
import { useEffect, useRef, useState } from './hooks.js';
import { api } from './api.js';
import {
  ConfirmButton,
  CopyButton,
  ErrorNotice,
  FilterInputs,
  LEVELS,
  LevelChips,
  filterObject,
  filtersFromObject,
  formatCount,
  formatTime,
  html,
  useInterval,
} from './components.js';

const KINDS = [
  ['threshold', 'Threshold: at least N matching logs within the window'],
  ['absence', 'Absence: no matching log for the window'],
  ['match', 'Match: every matching log'],
];
const DEFAULT_WINDOW = { threshold: 60, absence: 300, match: 60 };
const GROUPS = ['device_id', 'service', 'app', 'host'];
const TARGET_TYPES = ['webhook', 'slack', 'alertmanager'];
const EVENTS_PAGE = 50;

function emptyDraft() {
  return {
    name: '',
    kind: 'threshold',
    filters: filtersFromObject({}),
    min_level: '',
    threshold: '10',
    window: '',
    cooldown: '300',
    group_by: [],
    notify: [],
    labels: '',
    secret: '',
    rotate: false,
    enabled: true,
  };
}

function draftOf(rule) {
  const { min_level: minLevel, ...filter } = rule.filter || {};
  return {
    name: rule.name,
    kind: rule.kind,
    filters: filtersFromObject(filter),
    min_level: minLevel || '',
    threshold: rule.threshold == null ? '' : String(rule.threshold),
    window: String(rule.window_seconds),
    cooldown: String(rule.cooldown_seconds),
    group_by: rule.group_by || [],
    notify: (rule.notify || []).map((t) => ({ ...t })),
    labels: Object.entries(rule.labels || {})
      .map(([k, v]) => `${k}=${v}`)
      .join(', '),
    secret: '',
    rotate: false,
    enabled: rule.enabled,
  };
}

// A number field's text as the API wants it: an integer, or the text itself, so the server's
// message about the field (not a silent NaN) is what the person sees.
const integer = (text) => (/^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text);

function bodyOf(draft, editing) {
  const filter = filterObject(draft.filters);
  if (draft.min_level) filter.min_level = draft.min_level;
  const labels = {};
  for (const pair of draft.labels.split(',')) {
    const eq = pair.indexOf('=');
    if (pair.trim()) labels[(eq < 0 ? pair : pair.slice(0, eq)).trim()] = eq < 0 ? '' : pair.slice(eq + 1).trim();
  }
  const body = {
    name: draft.name,
    kind: draft.kind,
    filter,
    group_by: draft.group_by,
    notify: draft.notify.filter((t) => t.url.trim() !== '').map((t) => ({ type: t.type, url: t.url.trim() })),
    labels,
    enabled: draft.enabled,
  };
  if (draft.kind === 'threshold') body.threshold = integer(draft.threshold);
  if (draft.window.trim()) body.window_seconds = integer(draft.window);
  if (draft.cooldown.trim()) body.cooldown_seconds = integer(draft.cooldown);
  if (draft.secret) body.secret = draft.secret;
  else if (editing && draft.rotate) body.secret = null;
  return body;
}

// The server's messages about `field` and anything under it (filter.level, notify[0].url).
// `exact`: that field only (the targets' own messages are shown beside each target).
function messagesAbout(error, field, exact = false) {
  if (!error || !error.details) return [];
  return error.details
    .filter((d) => d.field === field || (!exact && (d.field.startsWith(`${field}.`) || d.field.startsWith(`${field}[`))))
    .map((d) => (d.field === field ? d.message : `${d.field}: ${d.message}`));
}

function FieldError({ error, field, id, exact }) {
  const messages = messagesAbout(error, field, exact);
  if (error && error.status === 409 && field === 'name') messages.push(error.message);
  if (messages.length === 0) return null;
  return html`<span class="field-error" id=${id}>${messages.join('; ')}</span>`;
}

function RuleForm({ editing, onSaved, onCancel }) {
  const [draft, setDraft] = useState(editing ? draftOf(editing) : emptyDraft());
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const nameInput = useRef(null);
  useEffect(() => {
    setDraft(editing ? draftOf(editing) : emptyDraft());
    setError(null);
    if (editing && nameInput.current) nameInput.current.focus();
  }, [editing && editing.id]);

  const set = (name) => (event) => setDraft({ ...draft, [name]: event.target.type === 'checkbox' ? event.target.checked : event.target.value });
  const invalid = (field) => (messagesAbout(error, field).length > 0 ? 'true' : undefined);
  // aria-describedby only names an element that exists: the field's error, once there is one.
  const describedBy = (field, id) => (messagesAbout(error, field, field === 'notify').length > 0 || (field === 'name' && error && error.status === 409) ? id : undefined);
  const toggleGroup = (name) =>
    setDraft({ ...draft, group_by: draft.group_by.includes(name) ? draft.group_by.filter((g) => g !== name) : [...draft.group_by, name] });
  const setTarget = (i, change) => setDraft({ ...draft, notify: draft.notify.map((t, j) => (j === i ? { ...t, ...change } : t)) });

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      const saved = editing
        ? await api(`/api/v1/alerts/rules/${encodeURIComponent(editing.id)}`, { method: 'PUT', body: bodyOf(draft, true) })
        : await api('/api/v1/alerts/rules', { method: 'POST', body: bodyOf(draft, false) });
      setError(null);
      if (!editing) setDraft(emptyDraft());
      onSaved(saved, !editing);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const text = (id, field, label, key, props = {}) => html`<label class=${`field ${props.wide ? 'wide' : ''}`}><span>${label}</span>
      <input id=${id} name=${field} value=${draft[key]} autocomplete="off" spellcheck=${false} onInput=${set(key)}
        aria-invalid=${invalid(field)} aria-describedby=${describedBy(field, `${id}-error`)} inputmode=${props.numeric ? 'numeric' : undefined}
        placeholder=${props.placeholder} required=${props.required} />
      <${FieldError} error=${error} field=${field} id=${`${id}-error`} />
    </label>`;

  return html`<form id="alert-form" class="rule-form panel" aria-labelledby="alert-form-title" onSubmit=${submit} novalidate>
    <h2 id="alert-form-title">${editing ? `Edit rule ${editing.name}` : 'New rule'}</h2>
    <${ErrorNotice} error=${error} onDismiss=${() => setError(null)} />
    <div class="form-row">
      <label class="field wide"><span>Name</span>
        <input id="alert-name" name="name" ref=${nameInput} value=${draft.name} autocomplete="off" required
          onInput=${set('name')} aria-invalid=${invalid('name')} aria-describedby=${describedBy('name', 'alert-name-error')} />
        <${FieldError} error=${error} field="name" id="alert-name-error" />
      </label>
      <label class="field wide"><span>Kind</span>
        <select id="alert-kind" name="kind" value=${draft.kind} onChange=${set('kind')} aria-invalid=${invalid('kind')} aria-describedby=${describedBy('kind', 'alert-kind-error')}>
          ${KINDS.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        </select>
        <${FieldError} error=${error} field="kind" id="alert-kind-error" />
      </label>
      ${draft.kind === 'threshold' && text('alert-threshold', 'threshold', 'Threshold (logs)', 'threshold', { numeric: true, required: true })}
      ${text('alert-window', 'window_seconds', 'Window (seconds)', 'window', { numeric: true, placeholder: `${DEFAULT_WINDOW[draft.kind]} (default)` })}
      ${text('alert-cooldown', 'cooldown_seconds', 'Cooldown (seconds)', 'cooldown', { numeric: true, placeholder: '300 (default)' })}
    </div>

    <fieldset aria-describedby=${describedBy('filter', 'alert-filter-error')}>
      <legend>Which logs count (empty: every log)</legend>
      <div class="filters">
        <${FilterInputs} filters=${draft.filters} onChange=${(filters) => setDraft({ ...draft, filters })} idPrefix="alert-filter" />
        <label class="field"><span>At least level</span>
          <select id="alert-min-level" name="min_level" value=${draft.min_level} onChange=${set('min_level')}>
            <option value="">any</option>
            ${LEVELS.map((level) => html`<option value=${level}>${level}</option>`)}
          </select>
        </label>
      </div>
      <div class="filter-actions"><span class="muted">Levels (none: any)</span>
        <${LevelChips} selected=${draft.filters.levels} onChange=${(levels) => setDraft({ ...draft, filters: { ...draft.filters, levels } })} />
      </div>
      <${FieldError} error=${error} field="filter" id="alert-filter-error" />
    </fieldset>

    <fieldset aria-describedby=${describedBy('group_by', 'alert-group-error')}>
      <legend>One alert per (group by)</legend>
      <div class="actions">
        ${GROUPS.map(
          (name) => html`<label class="check"><input type="checkbox" id=${`alert-group-${name}`} name="group_by" value=${name}
            checked=${draft.group_by.includes(name)} onChange=${() => toggleGroup(name)} /> ${name}</label>`
        )}
      </div>
      <${FieldError} error=${error} field="group_by" id="alert-group-error" />
    </fieldset>

    <fieldset aria-describedby=${describedBy('notify', 'alert-notify-error')}>
      <legend>Notify</legend>
      ${draft.notify.length === 0 && html`<p class="muted">No targets: episodes are only recorded in the history.</p>`}
      ${draft.notify.map(
        (target, i) => html`<div class="form-row" key=${i}>
          <label class="field"><span>Target ${i + 1} type</span>
            <select id=${`alert-target-type-${i}`} name=${`notify[${i}].type`} value=${target.type} onChange=${(e) => setTarget(i, { type: e.target.value })}>
              ${TARGET_TYPES.map((type) => html`<option value=${type}>${type}</option>`)}
            </select></label>
          <label class="field wide"><span>Target ${i + 1} URL</span>
            <input id=${`alert-target-url-${i}`} name=${`notify[${i}].url`} type="url" value=${target.url} autocomplete="off"
              placeholder=${target.type === 'alertmanager' ? 'http://alertmanager:9093' : 'https://hooks.example.com/logpipe'}
              aria-invalid=${invalid(`notify[${i}]`)} aria-describedby=${describedBy(`notify[${i}]`, `alert-target-error-${i}`)}
              onInput=${(e) => setTarget(i, { url: e.target.value })} />
            <${FieldError} error=${error} field=${`notify[${i}]`} id=${`alert-target-error-${i}`} />
          </label>
          <button type="button" class="secondary" onClick=${() => setDraft({ ...draft, notify: draft.notify.filter((_, j) => j !== i) })}>
            Remove target ${i + 1}</button>
        </div>`
      )}
      <button type="button" class="secondary" id="alert-add-target" disabled=${draft.notify.length >= 10}
        onClick=${() => setDraft({ ...draft, notify: [...draft.notify, { type: 'webhook', url: '' }] })}>Add target</button>
      <${FieldError} error=${error} field="notify" id="alert-notify-error" exact />
    </fieldset>

    <div class="form-row">
      ${text('alert-labels', 'labels', 'Labels (for Alertmanager)', 'labels', { wide: true, placeholder: 'severity=critical, team=ops' })}
      <label class="field wide"><span>${editing ? 'New webhook secret (empty: keep it)' : 'Webhook secret (empty: generated)'}</span>
        <input id="alert-secret" name="secret" type="password" value=${draft.secret} autocomplete="new-password"
          onInput=${set('secret')} aria-invalid=${invalid('secret')} aria-describedby=${describedBy('secret', 'alert-secret-error')} />
        <${FieldError} error=${error} field="secret" id="alert-secret-error" />
      </label>
      ${editing &&
      html`<label class="check"><input type="checkbox" id="alert-rotate-secret" name="rotate" checked=${draft.rotate}
        disabled=${!!draft.secret} onChange=${set('rotate')} /> Generate a new secret</label>`}
      <label class="check"><input type="checkbox" id="alert-enabled" name="enabled" checked=${draft.enabled} onChange=${set('enabled')} /> Enabled</label>
    </div>
    <div class="actions">
      <button type="submit" id="alert-submit" disabled=${busy}>${editing ? 'Save rule' : 'Create rule'}</button>
      ${editing && html`<button type="button" class="secondary" id="alert-cancel" onClick=${onCancel}>Cancel editing</button>`}
    </div>
  </form>`;
}

function condition(rule) {
  if (rule.kind === 'threshold') return `≥ ${formatCount(rule.threshold)} logs in ${rule.window_seconds} s`;
  if (rule.kind === 'absence') return `none for ${rule.window_seconds} s`;
  return `each match (resolves ${rule.window_seconds} s after the last)`;
}

const filterText = (filter) =>
  Object.entries(filter || {})
    .map(([k, v]) => `${k}=${[].concat(v).join('|')}`)
    .join(' ') || 'every log';

function Rules({ rules, firing, onEdit, onDelete }) {
  if (rules.length === 0) return html`<p class="muted">No rules yet: create one below.</p>`;
  return html`<table class="list rules">
    <thead><tr>
      <th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Condition</th><th scope="col">Filter</th>
      <th scope="col">Group by</th><th scope="col">Notify</th><th scope="col">State</th><th scope="col">Actions</th>
    </tr></thead>
    <tbody>
      ${rules.map(
        (rule) => html`<tr key=${rule.id} data-rule-id=${rule.id}>
          <td>${rule.name}</td>
          <td>${rule.kind}</td>
          <td>${condition(rule)}</td>
          <td class="mono">${filterText(rule.filter)}</td>
          <td>${(rule.group_by || []).join(', ') || '–'}</td>
          <td>${(rule.notify || []).map((t) => t.type).join(', ') || '–'}</td>
          <td>${!rule.enabled ? 'disabled' : firing.has(rule.id) ? html`<span class="tag warn">firing</span>` : 'enabled'}</td>
          <td><div class="actions">
            <button type="button" class="secondary" onClick=${() => onEdit(rule)} aria-label=${`Edit rule ${rule.name}`}>Edit</button>
            <${ConfirmButton} label="Delete" question=${`Delete rule ${rule.name}? Its history stays.`} onConfirm=${() => onDelete(rule)} />
          </div></td>
        </tr>`
      )}
    </tbody>
  </table>`;
}

function delivery(d) {
  const result = d.ok ? 'ok' : 'failed';
  const detail = d.last_status != null ? ` ${d.last_status}` : d.last_error ? `: ${d.last_error}` : '';
  return `${d.transition} → ${d.type} ${d.url}: ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}, ${result}${detail}`;
}

function Events({ events, cursor, loading, onMore }) {
  return html`<section aria-labelledby="alert-events-title">
    <h2 id="alert-events-title">History</h2>
    ${events.length === 0 && !loading && html`<p class="muted">No alert has fired yet.</p>`}
    ${events.length > 0 &&
    html`<table class="list events">
      <thead><tr>
        <th scope="col">Rule</th><th scope="col">Group</th><th scope="col">State</th><th scope="col">Fired</th>
        <th scope="col">Resolved</th><th scope="col" class="num">Count</th><th scope="col">Deliveries</th>
      </tr></thead>
      <tbody>
        ${events.map(
          (e) => html`<tr key=${e.id} data-event-id=${e.id} data-event-rule-id=${e.rule_id}>
            <td>${e.rule_name}${e.rule_id == null ? html` <span class="muted">(deleted)</span>` : ''}</td>
            <td class="mono">${Object.entries(e.group || {}).map(([k, v]) => `${k}=${v}`).join(' ') || '–'}</td>
            <td>${e.state === 'firing' ? html`<span class="tag warn">firing</span>` : 'resolved'}</td>
            <td>${formatTime(e.fired_at)}</td>
            <td>${e.resolved_at ? formatTime(e.resolved_at) : '–'}</td>
            <td class="num">${formatCount(e.count)}</td>
            <td>${(e.deliveries || []).length === 0
              ? '–'
              : html`<ul class="plain">${e.deliveries.map((d, i) => html`<li key=${i} class=${d.ok ? '' : 'failed'}>${delivery(d)}</li>`)}</ul>`}</td>
          </tr>`
        )}
      </tbody>
    </table>`}
    ${cursor && html`<button type="button" class="secondary" onClick=${onMore} disabled=${loading}>Load more</button>`}
  </section>`;
}

export default function Alerts() {
  const [rules, setRules] = useState(null);
  const [error, setError] = useState(null);
  const [editing, setEditing] = useState(null);
  const [status, setStatus] = useState(null);
  const [events, setEvents] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [pages, setPages] = useState(0);
  const [loading, setLoading] = useState(false);
  const form = useRef(null);

  const loadRules = () =>
    api('/api/v1/alerts/rules')
      .then((answer) => setRules(answer.rules))
      .catch(setError);
  const loadEvents = (after) => {
    setLoading(true);
    const query = { limit: EVENTS_PAGE };
    if (after) query.cursor = after;
    return api('/api/v1/alerts/events', { query })
      .then((page) => {
        setEvents((old) => (after ? old.concat(page.events) : page.events));
        setCursor(page.next_cursor || null);
        setPages((n) => (after ? n + 1 : 1));
      })
      .catch(setError)
      .finally(() => setLoading(false));
  };
  useEffect(() => {
    loadRules();
  }, []);
  // The newest episodes every 10 s, unless more pages were loaded (reading the past stays put).
  useInterval(() => {
    if (pages <= 1) loadEvents(null);
  }, 10000, [pages]);

  const firing = new Set(events.filter((e) => e.state === 'firing').map((e) => e.rule_id));
  const saved = (rule, created) => {
    setEditing(null);
    setStatus({ rule, created });
    loadRules();
  };
  const edit = (rule) => {
    setStatus(null);
    setEditing(rule);
    if (form.current) form.current.scrollIntoView({ block: 'start' });
  };
  const remove = async (rule) => {
    try {
      await api(`/api/v1/alerts/rules/${encodeURIComponent(rule.id)}`, { method: 'DELETE' });
      if (editing && editing.id === rule.id) setEditing(null);
      setStatus({ deleted: rule });
      loadRules();
    } catch (e) {
      setError(e);
    }
  };

  return html`<section class="page alerts">
    <h1>Alerts</h1>
    <${ErrorNotice} error=${error} onDismiss=${() => setError(null)} />
    ${status &&
    html`<div class="notice ok" role="status">
      <span>${status.deleted
        ? `Deleted rule ${status.deleted.name}.`
        : `${status.created ? 'Created' : 'Saved'} rule ${status.rule.name} (id ${status.rule.id}).`}
        ${status.rule && status.rule.secret && html` Its webhook secret, shown only now: <code class="secret">${status.rule.secret}</code>`}</span>
      <span class="actions">
        ${status.rule && status.rule.secret && html`<${CopyButton} text=${status.rule.secret} label="Copy secret" />`}
        <button type="button" class="link" onClick=${() => setStatus(null)}>Dismiss</button>
      </span>
    </div>`}
    <section aria-labelledby="alert-rules-title">
      <h2 id="alert-rules-title">Rules</h2>
      ${rules && html`<${Rules} rules=${rules} firing=${firing} onEdit=${edit} onDelete=${remove} />`}
    </section>
    <div ref=${form}>
      <${RuleForm} editing=${editing} onSaved=${saved} onCancel=${() => setEditing(null)} />
    </div>
    <${Events} events=${events} cursor=${cursor} loading=${loading} onMore=${() => loadEvents(cursor)} />
  </section>`;
}
