// The UI's frame: navigation, the address as the state (history API: a search's link opens the
// same search), the theme, and the key dialog a 401 opens. Pages load on first visit.
import { render } from './preact.js';
import { useEffect, useRef, useState } from './hooks.js';
import { onKeyNeeded, storedKey, storeKey } from './api.js';
import { html, navigate } from './components.js';
import Explore from './explore.js';

// The one list of pages: address under /ui, title, and the module that draws it.
const PAGES = [
  // The home page is part of the first load: its search starts as the app first renders.
  { path: 'explore', title: 'Explore', load: async () => ({ default: Explore }) },
  { path: 'tail', title: 'Live tail', load: () => import('./tail.js') },
  { path: 'dashboard', title: 'Dashboard', load: () => import('./dashboard.js') },
  { path: 'devices', title: 'Devices', load: () => import('./devices.js') },
  { path: 'alerts', title: 'Alerts', load: () => import('./alerts.js') },
  { path: 'dead-letters', title: 'Dead letters', load: () => import('./dead-letters.js') },
  { path: 'keys', title: 'Keys', load: () => import('./keys.js') },
];
const HOME = PAGES[0];

function pageOf(pathname) {
  const name = pathname.replace(/^\/ui\/?/, '').split('/')[0];
  if (!name) return HOME;
  return PAGES.find((p) => p.path === name) || null;
}

function useLocation() {
  const [, setVersion] = useState(0);
  useEffect(() => {
    const changed = () => setVersion((v) => v + 1);
    window.addEventListener('popstate', changed);
    window.addEventListener('logpipe:navigate', changed);
    return () => {
      window.removeEventListener('popstate', changed);
      window.removeEventListener('logpipe:navigate', changed);
    };
  }, []);
  return location;
}

// Links inside the UI move with navigate(); modified clicks (new tab) stay the browser's.
function onLinkClick(event) {
  const link = event.target.closest('a[href^="/ui"]');
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || link.target) return;
  event.preventDefault();
  navigate(link.getAttribute('href'));
}

const THEME_ITEM = 'logpipe.theme';
function initialTheme() {
  const saved = localStorage.getItem(THEME_ITEM);
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}
// Set before anything renders (and on every switch, before the re-render), so that a chart reading
// the theme's colours while it renders reads the new ones.
document.documentElement.dataset.theme = initialTheme();

function KeyDialog({ request, onDone }) {
  const dialog = useRef(null);
  const input = useRef(null);
  useEffect(() => {
    if (!dialog.current) return;
    if (request && !dialog.current.open) {
      dialog.current.showModal();
      input.current.value = '';
      input.current.focus();
    } else if (!request && dialog.current.open) {
      dialog.current.close();
    }
  }, [request]);
  const submit = (event) => {
    event.preventDefault();
    const key = input.current.value.trim();
    if (key) storeKey(key);
    onDone(!!key);
  };
  return html`<dialog ref=${dialog} class="key-dialog" aria-labelledby="key-title" onCancel=${(e) => { e.preventDefault(); onDone(false); }}>
    <form onSubmit=${submit}>
      <h2 id="key-title">API key</h2>
      <p>${request && request.reason ? request.reason : 'This server wants an API key.'}</p>
      <p class="muted">It is kept for this browser tab only, and sent in the X-API-Key header.</p>
      <label class="field wide"><span>Key</span>
        <input ref=${input} type="password" name="key" autocomplete="off" spellcheck=${false} required />
      </label>
      <div class="actions">
        <button type="button" class="secondary" onClick=${() => onDone(false)}>Cancel</button>
        <button type="submit">Use this key</button>
      </div>
    </form>
  </dialog>`;
}

function App() {
  const loc = useLocation();
  const page = pageOf(loc.pathname);
  const [theme, setTheme] = useState(initialTheme);
  const [keyRequest, setKeyRequest] = useState(null);
  const [hasKey, setHasKey] = useState(!!storedKey());
  const [modules, setModules] = useState({ explore: Explore });
  const [loadError, setLoadError] = useState(null);

  useEffect(() => {
    document.title = page ? `${page.title} · logpipe` : 'Not found · logpipe';
    if (!page || modules[page.path]) return;
    page
      .load()
      .then((module) => setModules((m) => ({ ...m, [page.path]: module.default })))
      .catch((e) => setLoadError(e.message));
  }, [page]);
  useEffect(() => {
    // Concurrent 401s share one dialog and all retry once it is answered.
    let pending = null;
    onKeyNeeded((reason) => {
      if (!pending)
        pending = new Promise((resolve) => setKeyRequest({ reason, resolve })).finally(() => {
          pending = null;
        });
      return pending;
    });
  }, []);

  const keyDone = (given) => {
    if (keyRequest && keyRequest.resolve) keyRequest.resolve(given);
    setKeyRequest(null);
    setHasKey(!!storedKey());
  };
  const toggleTheme = () => {
    const next = theme === 'dark' ? 'light' : 'dark';
    localStorage.setItem(THEME_ITEM, next);
    document.documentElement.dataset.theme = next;
    setTheme(next);
  };
  const forgetKey = () => {
    storeKey('');
    setHasKey(false);
  };
  const Page = page && modules[page.path];
  return html`<div class="frame" onClick=${onLinkClick}>
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="/ui/explore" aria-label="logpipe home">logpipe</a>
      <nav aria-label="Pages">
        <ul>
          ${PAGES.map(
            (p) => html`<li><a href=${`/ui/${p.path}`} aria-current=${page === p ? 'page' : undefined}>${p.title}</a></li>`
          )}
        </ul>
      </nav>
      <div class="tools">
        ${hasKey
          ? html`<button type="button" class="secondary" onClick=${forgetKey}>Forget key</button>`
          : html`<button type="button" class="secondary" onClick=${() => setKeyRequest({ reason: 'Enter an API key for this server.' })}>Enter key</button>`}
        <button type="button" class="secondary" onClick=${toggleTheme}>
          ${theme === 'dark' ? 'Light' : 'Dark'} theme</button>
        <a class="secondary button" href="/docs">API</a>
      </div>
    </header>
    <main id="main" tabindex="-1">
      ${!page && html`<section class="page"><h1>Not found</h1><p>No page at ${loc.pathname}. <a href="/ui/explore">Explore logs</a>.</p></section>`}
      ${page && loadError && html`<div class="notice error" role="alert">This page could not load: ${loadError}</div>`}
      ${Page ? html`<${Page} key=${page.path} location=${loc} theme=${theme} />` : page && !loadError && html`<p class="muted page">Loading…</p>`}
    </main>
    <${KeyDialog} request=${keyRequest} onDone=${keyDone} />
  </div>`;
}

render(html`<${App} />`, document.getElementById('app'));
