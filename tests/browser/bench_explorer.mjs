// The explorer's load time in a real browser (Debian chromium, headless), as a person sees it:
// from navigation start to the first result row in the page, and to the histogram's canvas (marked
// in the page by a MutationObserver, so the measurement adds no polling or round trip). Each load is
// in a fresh browser context (an empty cache: the first visit). bench/query runs it over its
// 10M-row database; docs/PERFORMANCE.md has the numbers.
//
//   node bench_explorer.mjs <base-url> [rounds] [json-out]
import { writeFileSync } from 'node:fs';
import puppeteer from 'puppeteer-core';

const [base, roundsArg = '7', jsonOut] = process.argv.slice(2);
const rounds = Number(roundsArg);
const cases = [
  ['explore, last hour (the default)', '/ui/explore'],
  ['explore, last 24 h, ERROR of one service', '/ui/explore?from=24h&service=api&level=ERROR'],
  ['explore, last 30 days', '/ui/explore?from=30d'],
];

// Pages `target` rows in (scrolling to the end as a person would, each scroll loading the next
// keyset page), then scrolls through them a screenful per frame and times the frames.
async function scrolling(target) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  await page.goto(`${base}/ui/explore?from=30d`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('[data-id]', { timeout: 60000 });
  const started = Date.now();
  const loaded = await page.evaluate(async (want) => {
    const body = document.querySelector('.grid-body');
    const rows = () => Number((document.querySelector('.summary').textContent.match(/([\d,]+) loaded/) || [0, '0'])[1].replace(/,/g, ''));
    const deadline = Date.now() + 300000;
    while (rows() < want && Date.now() < deadline) {
      body.scrollTop = body.scrollHeight;
      await new Promise((r) => setTimeout(r, 50));
      if (/\(all\)/.test(document.querySelector('.summary').textContent)) break;
    }
    return rows();
  }, target);
  const loadSeconds = (Date.now() - started) / 1000;
  const measured = await page.evaluate(async () => {
    const body = document.querySelector('.grid-body');
    body.scrollTop = 0;
    const frames = [];
    let maxRows = 0;
    let last = performance.now();
    for (let i = 0; i < 300; i++) {
      body.scrollTop += body.clientHeight;
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      frames.push(now - last);
      last = now;
      maxRows = Math.max(maxRows, document.querySelectorAll('.grid-body [data-id]').length);
    }
    frames.sort((a, b) => a - b);
    const pick = (q) => frames[Math.min(frames.length - 1, Math.floor(q * frames.length))];
    return { frames: frames.length, frame_ms: { p50: pick(0.5), p99: pick(0.99), max: frames[frames.length - 1] }, max_rows_in_dom: maxRows };
  });
  await page.close();
  return { loaded, load_seconds: loadSeconds, ...measured };
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox'],
});
const results = {};
try {
  for (const [name, path] of cases) {
    const rows = [];
    const chart = [];
    const phases = [];
    for (let i = 0; i < rounds; i++) {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      await page.setViewport({ width: 1280, height: 800 });
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      // Marks taken in the page as the DOM changes: no polling or round trip in the measurement.
      await page.evaluateOnNewDocument(() => {
        window.__marks = {};
        new MutationObserver(() => {
          if (!window.__marks.rows && document.querySelector('[data-id]')) window.__marks.rows = performance.now();
          if (!window.__marks.chart && document.querySelector('.histogram canvas')) window.__marks.chart = performance.now();
        }).observe(document, { subtree: true, childList: true });
      });
      await page.goto(base + path, { waitUntil: 'domcontentloaded' });
      await page.waitForSelector('[data-id]', { timeout: 60000 });
      await page.waitForSelector('.histogram canvas', { timeout: 60000 });
      const marks = await page.evaluate(() => window.__marks);
      rows.push(marks.rows);
      chart.push(marks.chart);
      phases.push(
        await page.evaluate(() => {
          const nav = performance.getEntriesByType('navigation')[0];
          const search = performance.getEntriesByType('resource').find((e) => e.name.includes('/api/v1/logs?'));
          return {
            html: nav.responseEnd,
            scripts_run: nav.domContentLoadedEventEnd,
            search_sent: search ? search.startTime : NaN,
            search_answered: search ? search.responseEnd : NaN,
          };
        })
      );
      if (errors.length) throw new Error(`${path}: ${errors.join('; ')}`);
      await context.close();
    }
    const stats = (values) => {
      const sorted = [...values].sort((a, b) => a - b);
      return { median: sorted[Math.floor(sorted.length / 2)], max: sorted[sorted.length - 1] };
    };
    const phase = (key) => stats(phases.map((p) => p[key])).median;
    results[name] = {
      path,
      first_rows_ms: stats(rows),
      histogram_ms: stats(chart),
      median_phases_ms: { html: phase('html'), scripts_run: phase('scripts_run'), search_sent: phase('search_sent'), search_answered: phase('search_answered') },
    };
  }
  results.scroll = await scrolling(100000);
} finally {
  await browser.close();
}
console.log(`${'case'.padEnd(44)} ${'first rows'.padStart(20)} ${'histogram drawn'.padStart(20)}`);
console.log(`${''.padEnd(44)} ${'median / max ms'.padStart(20)} ${'median / max ms'.padStart(20)}`);
for (const [name] of cases) {
  const r = results[name];
  const cell = (s) => `${s.median.toFixed(0)} / ${s.max.toFixed(0)}`.padStart(20);
  console.log(`${name.padEnd(44)} ${cell(r.first_rows_ms)} ${cell(r.histogram_ms)}`);
}
console.log(`(${rounds} loads each, every one in a fresh browser context: nothing cached)`);
console.log('where the time goes (medians, ms after navigation start): page received / scripts run / search sent / search answered');
for (const [name] of cases) {
  const p = results[name].median_phases_ms;
  console.log(`  ${name.padEnd(44)} ${[p.html, p.scripts_run, p.search_sent, p.search_answered].map((v) => v.toFixed(0)).join(' / ')}`);
}
const sc = results.scroll;
console.log(
  `scrolling with ${sc.loaded} rows loaded (${sc.load_seconds.toFixed(1)} s to page them in): frame p50 ${sc.frame_ms.p50.toFixed(1)} ms, ` +
    `p99 ${sc.frame_ms.p99.toFixed(1)} ms, max ${sc.frame_ms.max.toFixed(1)} ms over ${sc.frames} frames; at most ${sc.max_rows_in_dom} rows in the DOM`
);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(results, null, 1));
