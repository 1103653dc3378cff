// Dead letters: the records PostgreSQL refused for their data, oldest first, with the error.
// Inspect one (its records as JSON), replay the selected ones or all of them (after the cause was
// fixed), or delete one for good. Each action's answer (how many moved, how many remain) is shown.
import { useEffect, useRef, useState } from './hooks.js';
import { api } from './api.js';
import { ConfirmButton, CopyButton, ErrorNotice, formatCount, formatTime, html } from './components.js';

const LIMIT = 1000; // the API's largest page; it has no cursor: the oldest entries come first

function Inspect({ entry, onClose }) {
  const close = useRef(null);
  useEffect(() => {
    if (close.current) close.current.focus();
  }, [entry && entry.id]);
  if (!entry) return null;
  const json = JSON.stringify(entry, null, 2);
  return html`<aside class="detail" aria-label="Dead-letter entry" onKeyDown=${(e) => e.key === 'Escape' && onClose()}>
    <div class="detail-head">
      <h2>Entry ${entry.id}</h2>
      <button type="button" ref=${close} class="secondary" onClick=${onClose} aria-label="Close the entry">Close</button>
    </div>
    <div class="actions"><${CopyButton} text=${json} label="Copy JSON" /></div>
    <pre class="json" tabindex="0" aria-label="The entry as JSON">${json}</pre>
  </aside>`;
}

export default function DeadLetters() {
  const [answer, setAnswer] = useState(null);
  const [error, setError] = useState(null);
  const [tenant, setTenant] = useState('');
  const [selected, setSelected] = useState(new Set());
  const [open, setOpen] = useState(null);
  const [result, setResult] = useState('');
  const [busy, setBusy] = useState(false);

  const load = (forTenant = tenant) => {
    const query = { limit: LIMIT };
    if (forTenant.trim()) query.tenant = forTenant.trim();
    return api('/api/v1/dlq', { query })
      .then((a) => {
        setAnswer(a);
        setError(null);
        const ids = new Set(a.entries.map((e) => e.id));
        setSelected((old) => new Set([...old].filter((id) => ids.has(id))));
        setOpen((o) => (o && ids.has(o.id) ? o : null));
      })
      .catch(setError);
  };
  useEffect(() => {
    load();
  }, []);

  const act = async (what, request) => {
    setBusy(true);
    try {
      setResult(what(await request()));
      await load();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const replay = (ids) =>
    act(
      (a) => `Replayed ${formatCount(a.replayed)} ${a.replayed === 1 ? 'entry' : 'entries'}; ${formatCount(a.remaining)} remain.`,
      () => api('/api/v1/dlq/replay', { method: 'POST', body: ids ? { ids } : {} })
    );
  const remove = (id) =>
    act(
      (a) => `Deleted entry ${id}; ${formatCount(a.remaining)} remain.`,
      () => api(`/api/v1/dlq/${encodeURIComponent(id)}`, { method: 'DELETE' })
    );
  const toggle = (id) =>
    setSelected((old) => {
      const next = new Set(old);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const entries = answer ? answer.entries : [];
  const allSelected = entries.length > 0 && entries.every((e) => selected.has(e.id));
  return html`<section class="page dead-letters">
    <h1>Dead letters</h1>
    <p class="muted">Records the database refused for their data. Fix the cause, then replay them into the stream, or delete them.</p>
    <form class="filters" aria-label="Whose dead letters" onSubmit=${(e) => { e.preventDefault(); load(); }}>
      <label class="field"><span>Tenant (operator; empty: all)</span>
        <input id="dlq-tenant" value=${tenant} autocomplete="off" onInput=${(e) => setTenant(e.target.value)} /></label>
      <button type="submit" class="secondary">Refresh</button>
    </form>
    <${ErrorNotice} error=${error} onDismiss=${() => setError(null)} />
    ${result && html`<div class="notice ok" role="status"><span>${result}</span>
      <button type="button" class="link" onClick=${() => setResult('')}>Dismiss</button></div>`}
    ${answer &&
    html`<div class="summary">
      <span aria-live="polite">${formatCount(answer.length)} ${answer.length === 1 ? 'entry' : 'entries'}
        ${answer.length > entries.length ? ` · the oldest ${formatCount(entries.length)} listed` : ''}
        ${selected.size > 0 ? ` · ${formatCount(selected.size)} selected` : ''}</span>
      <span class="actions">
        <button type="button" id="dlq-replay-selected" disabled=${busy || selected.size === 0} onClick=${() => replay([...selected])}>
          Replay selected (${formatCount(selected.size)})</button>
        <${ConfirmButton} id="dlq-replay-all" label="Replay all" confirmLabel="Yes, replay all" disabled=${busy || answer.length === 0}
          question=${`Move all ${formatCount(answer.length)} entries back into the stream?`} onConfirm=${() => replay(null)} />
      </span>
    </div>`}
    ${answer && entries.length === 0 && html`<p class="muted">No dead letters: every record was stored.</p>`}
    <div class=${open ? 'results with-detail' : 'results'}>
      ${entries.length > 0 &&
      html`<div class="table-box"><table class="list">
        <thead><tr>
          <th scope="col"><label class="check"><input type="checkbox" id="dlq-select-all" checked=${allSelected}
            onChange=${() => setSelected(allSelected ? new Set() : new Set(entries.map((e) => e.id)))} /> Entry</label></th>
          <th scope="col">Failed at</th><th scope="col">Tenant</th><th scope="col" class="num">Records</th>
          <th scope="col">Error</th><th scope="col">Actions</th>
        </tr></thead>
        <tbody>
          ${entries.map(
            (e) => html`<tr key=${e.id} data-dlq-id=${e.id} class=${open && open.id === e.id ? 'selected' : undefined}>
              <td><label class="check mono"><input type="checkbox" checked=${selected.has(e.id)} onChange=${() => toggle(e.id)} /> ${e.id}</label></td>
              <td>${formatTime(e.failed_at)}</td>
              <td>${e.tenant_id}</td>
              <td class="num">${e.records ? formatCount(e.records.length) : 'undecodable'}</td>
              <td class="error-text"><span title=${e.error}>${e.error}</span></td>
              <td><div class="actions">
                <button type="button" class="secondary" onClick=${() => setOpen(e)} aria-label=${`Inspect entry ${e.id}`}>Inspect</button>
                <${ConfirmButton} label="Delete" question=${`Delete entry ${e.id} for good?`} disabled=${busy} onConfirm=${() => remove(e.id)} />
              </div></td>
            </tr>`
          )}
        </tbody>
      </table></div>`}
      <${Inspect} entry=${open} onClose=${() => setOpen(null)} />
    </div>
  </section>`;
}
