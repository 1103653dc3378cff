// The /docs page's script: a file of its own, since the page's Content-Security-Policy allows no
// inline script (script-src 'self').
// Renders /openapi.json: every operation with its description, responses and a form to try it.
// Plain DOM, no external assets: this page is embedded in the logpipe binary.
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
};
const pretty = (text) => { try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; } };

async function tryIt(method, path, form, out) {
  let target = path.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(form.elements[name]?.value || ""));
  const query = form.elements.query?.value;
  if (query) target += (query.startsWith("?") ? "" : "?") + query;
  const init = { method: method.toUpperCase() };
  if (form.elements.body) { init.body = form.elements.body.value; init.headers = { "Content-Type": "application/json" }; }
  out.textContent = "…";
  try {
    const r = await fetch(target, init);
    out.textContent = `${r.status} ${r.statusText}\n\n` + pretty(await r.text());
  } catch (e) { out.textContent = String(e); }
}

function operation(path, method, op) {
  const form = el("form");
  for (const [, name] of path.matchAll(/\{(\w+)\}/g))
    form.append(el("label", {}, `${name} `), el("input", { name, required: "" }), " ");
  form.append(el("label", {}, "query "), el("input", { name: "query", placeholder: "limit=10" }), " ");
  if (op.requestBody) form.append(el("p"), el("textarea", { name: "body", rows: "5" }));
  const out = el("pre");
  form.append(el("p"), el("button", { type: "submit" }, "Send"));
  form.addEventListener("submit", (e) => { e.preventDefault(); tryIt(method, path, form, out); });
  const responses = el("ul");
  for (const [code, r] of Object.entries(op.responses || {}))
    responses.append(el("li", {}, el("code", {}, code), " " + (r.description || "")));
  return el("details", {},
    el("summary", {}, el("span", { class: `method ${method}` }, method.toUpperCase()), el("code", {}, path), " ",
       el("span", { class: "muted" }, op.summary || "")),
    op.description ? el("p", {}, op.description) : "",
    el("h4", {}, "Responses"), responses, el("h4", {}, "Try it"), form, out);
}

fetch("/openapi.json").then((r) => r.json()).then((doc) => {
  document.getElementById("info").textContent = `${doc.info.title} ${doc.info.version}: ${doc.info.description || ""}`;
  const main = document.getElementById("paths");
  for (const [path, item] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(item))
      if (method !== "parameters") main.append(operation(path, method, op));
}).catch((e) => { document.getElementById("info").textContent = "Could not load /openapi.json: " + e; });
