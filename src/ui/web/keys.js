// API keys (admin scope): the list (never the keys themselves: only their SHA-256 is stored),
// create — the new key is shown this once —, and revoke.
import { useEffect, useState } from './hooks.js';
import { api } from './api.js';
import { ConfirmButton, CopyButton, ErrorNotice, formatTime, html } from './components.js';

const SCOPES = [
  ['ingest', 'ingest: send logs'],
  ['query', 'query: search, stats, devices, alerts'],
  ['admin', 'admin: keys, dead letters, queue, deletes'],
];
const EMPTY = { name: '', scopes: ['ingest'], tenant: '', requests_per_second: '', logs_per_second: '', expires_in: '' };

function status(key) {
  if (key.revoked_at) return `revoked ${formatTime(key.revoked_at)}`;
  if (key.expires_at && Date.parse(key.expires_at) <= Date.now()) return `expired ${formatTime(key.expires_at)}`;
  return key.active === false ? 'inactive' : 'active';
}

function bodyOf(draft) {
  const body = { name: draft.name, scopes: draft.scopes };
  if (draft.tenant.trim()) body.tenant = draft.tenant.trim();
  for (const name of ['requests_per_second', 'logs_per_second'])
    if (draft[name].trim()) body[name] = /^\d+$/.test(draft[name].trim()) ? Number(draft[name]) : draft[name];
  if (draft.expires_in.trim()) body.expires_in = draft.expires_in.trim();
  return body;
}

function CreateForm({ onCreated }) {
  const [draft, setDraft] = useState(EMPTY);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (name) => (e) => setDraft({ ...draft, [name]: e.target.value });
  const toggle = (scope) =>
    setDraft({ ...draft, scopes: draft.scopes.includes(scope) ? draft.scopes.filter((s) => s !== scope) : [...draft.scopes, scope] });
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      const created = await api('/api/v1/keys', { method: 'POST', body: bodyOf(draft) });
      setError(null);
      setDraft(EMPTY);
      onCreated(created);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const about = (field) => error && error.about && error.about(field);
  const field = (name, label, placeholder) => html`<label class="field"><span>${label}</span>
      <input id=${`key-${name}`} name=${name} value=${draft[name]} placeholder=${placeholder} autocomplete="off"
        aria-invalid=${about(name) ? 'true' : undefined} aria-describedby=${about(name) ? `key-${name}-error` : undefined} onInput=${set(name)} />
      ${about(name) && html`<span class="field-error" id=${`key-${name}-error`}>${about(name)}</span>`}
    </label>`;
  return html`<form class="panel" id="key-form" aria-labelledby="key-form-title" onSubmit=${submit} novalidate>
    <h2 id="key-form-title">New key</h2>
    <${ErrorNotice} error=${error} onDismiss=${() => setError(null)} />
    <div class="form-row">
      <label class="field wide"><span>Name</span>
        <input id="key-name" name="name" value=${draft.name} required autocomplete="off" placeholder="vector-eu"
          aria-invalid=${about('name') ? 'true' : undefined} aria-describedby=${about('name') ? 'key-name-error' : undefined} onInput=${set('name')} />
        ${about('name') && html`<span class="field-error" id="key-name-error">${about('name')}</span>`}
      </label>
      ${field('tenant', 'Tenant (empty: this key\u2019s)', 'default')}
      ${field('requests_per_second', 'Requests/s (empty: server default)', '')}
      ${field('logs_per_second', 'Logs/s (empty: server default)', '')}
      ${field('expires_in', 'Expires in (empty: never)', '90d')}
    </div>
    <fieldset>
      <legend>Scopes</legend>
      <div class="actions">
        ${SCOPES.map(
          ([scope, label]) => html`<label class="check"><input type="checkbox" id=${`key-scope-${scope}`} name="scopes" value=${scope}
            checked=${draft.scopes.includes(scope)} onChange=${() => toggle(scope)} /> ${label}</label>`
        )}
      </div>
      ${about('scopes') && html`<span class="field-error">${about('scopes')}</span>`}
    </fieldset>
    <div class="actions"><button type="submit" id="key-submit" disabled=${busy}>Create key</button></div>
  </form>`;
}

export default function Keys() {
  const [keys, setKeys] = useState(null);
  const [error, setError] = useState(null);
  const [created, setCreated] = useState(null);
  const [result, setResult] = useState('');

  const load = () =>
    api('/api/v1/keys')
      .then((answer) => {
        setKeys(answer.keys);
        setError(null);
      })
      .catch(setError);
  useEffect(() => {
    load();
  }, []);
  const revoke = async (key) => {
    try {
      await api(`/api/v1/keys/${encodeURIComponent(key.id)}`, { method: 'DELETE' });
      setResult(`Revoked key ${key.name} (${key.id}).`);
      load();
    } catch (e) {
      setError(e);
    }
  };

  return html`<section class="page keys">
    <h1>API keys</h1>
    <${ErrorNotice} error=${error} onDismiss=${() => setError(null)} />
    ${created &&
    html`<div class="notice warning new-key" role="status">
      <div>
        <p><strong>Key ${created.name} created. Copy it now: you will not see it again.</strong> Only its hash is stored.</p>
        <p><code class="secret" id="new-key">${created.key}</code></p>
      </div>
      <span class="actions">
        <${CopyButton} text=${created.key} label="Copy key" />
        <button type="button" class="secondary" onClick=${() => setCreated(null)}>I stored it</button>
      </span>
    </div>`}
    ${result && html`<div class="notice ok" role="status"><span>${result}</span>
      <button type="button" class="link" onClick=${() => setResult('')}>Dismiss</button></div>`}
    <section aria-labelledby="keys-list-title">
      <h2 id="keys-list-title">Keys</h2>
      ${keys && keys.length === 0 && html`<p class="muted">No keys yet.</p>`}
      ${keys &&
      keys.length > 0 &&
      html`<table class="list">
        <thead><tr>
          <th scope="col">Name</th><th scope="col">Id</th><th scope="col">Tenant</th><th scope="col">Scopes</th>
          <th scope="col">Limits</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Status</th><th scope="col">Actions</th>
        </tr></thead>
        <tbody>
          ${keys.map((key) => {
            const state = status(key);
            return html`<tr key=${key.id} data-key-id=${key.id} class=${state === 'active' ? undefined : 'inactive'}>
              <td>${key.name}</td>
              <td class="mono">${key.id}</td>
              <td>${key.tenant}</td>
              <td>${(key.scopes || []).join(', ')}</td>
              <td>${key.requests_per_second || key.logs_per_second
                ? `${key.requests_per_second ? `${key.requests_per_second} req/s` : ''}${key.requests_per_second && key.logs_per_second ? ', ' : ''}${key.logs_per_second ? `${key.logs_per_second} logs/s` : ''}`
                : 'default'}</td>
              <td>${formatTime(key.created_at)}</td>
              <td>${key.expires_at ? formatTime(key.expires_at) : 'never'}</td>
              <td>${state}</td>
              <td>${state === 'active' &&
              html`<${ConfirmButton} label="Revoke" question=${`Revoke key ${key.name}? Requests with it are refused at once.`}
                onConfirm=${() => revoke(key)} />`}</td>
            </tr>`;
          })}
        </tbody>
      </table>`}
    </section>
    <${CreateForm} onCreated=${(key) => { setCreated(key); setResult(''); load(); }} />
  </section>`;
}
