// The web UI in a real browser (Debian's chromium driven by puppeteer-core), for
// tests/integration/ui_test.cpp: one subcommand per proof, each against a running logpipe at
// BASE. It prints one JSON object on stdout: what the UI showed (row ids, what got focus, …) for
// the C++ test to compare with PostgreSQL, and `problems`, what the script itself found wrong
// (a dialog that fired, an element a log message made, a control never focused). Every wait is
// for a condition in the page, bounded by a generous timeout: the CI box is busy.
//
//   node ui.js rows       '{"base":…,"path":"/ui/explore?from=…&to=…","form":{…},"then":"/ui/explore?…"}'
//   node ui.js zoom       '{"base":…,"path":…,"fraction":[0.25,0.75]}'
//   node ui.js tail       '{"base":…,"ingest":[{…}],"expect":"text"}'
//   node ui.js hostile    '{"base":…,"path":…,"messages":[…]}'
//   node ui.js keyboard   '{"base":…,"explore":"/ui/explore?…"}'
//   node ui.js screenshots '{"base":…,"out":"dir","explore":"/ui/explore?…"}'
//   node ui.js auth       '{"base":…,"ingest_key":…,"query_key":…,"path":…}'
//   node ui.js alert      '{"base":…,"rule":{…}}'
//   node ui.js lighthouse '{"base":…,"path":…,"out":"dir"}'
'use strict';

const fs = require('fs');
const path = require('path');
const puppeteer = require('puppeteer-core');

const CHROMIUM = process.env.LOGPIPE_CHROMIUM || '/usr/bin/chromium';
const WAIT = Number(process.env.LOGPIPE_UI_WAIT_MS || 60000);
const ROW_HEIGHT = 28; // explore.js's ROW_HEIGHT

async function launch(viewport = { width: 1280, height: 800 }) {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root (CI) Chromium needs --no-sandbox; /dev/shm is small in containers.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--font-render-hinting=none'],
    defaultViewport: viewport,
    protocolTimeout: WAIT * 2,
  });
}

// A page that records what must never happen: dialogs (alert() from a log message), uncaught
// errors, failed module loads.
async function openPage(browser, report, { theme, key } = {}) {
  const page = await browser.newPage();
  page.setDefaultTimeout(WAIT);
  page.on('dialog', async (dialog) => {
    report.problems.push(`a ${dialog.type()} dialog fired: ${dialog.message()}`);
    await dialog.dismiss().catch(() => {});
  });
  page.on('pageerror', (error) => report.problems.push(`page error: ${error.message}`));
  // Keyset pages after the first, as the explorer asks for them while it scrolls.
  page.nextPages = 0;
  page.on('request', (request) => {
    if (/\/api\/v1\/logs\?.*\bcursor=/.test(request.url())) page.nextPages++;
  });
  if (theme || key) {
    await page.evaluateOnNewDocument(
      (theme, key) => {
        if (theme) localStorage.setItem('logpipe.theme', theme);
        if (key) sessionStorage.setItem('logpipe.key', key);
      },
      theme || '',
      key || ''
    );
  }
  return page;
}

// The explorer has answered its search: rows, or the "no logs" line. After armSearch: the search
// started since (the grid was busy), so the rows are the new search's, not the previous one's.
async function searchAnswered(page) {
  await page.waitForFunction(() => {
    const grid = document.querySelector('.grid[role=grid]');
    if (!grid || grid.getAttribute('aria-busy') === 'true') return false;
    if (window.__searchArmed && !window.__searchStarted) return false;
    return document.querySelector('.grid [role=row][data-id]') || document.querySelector('.empty');
  });
}

// Before an action that starts a search (a chip, Search, a zoom): notes when the grid goes busy.
async function armSearch(page) {
  await page.evaluate(() => {
    window.__searchArmed = true;
    window.__searchStarted = false;
    if (window.__searchObserver) window.__searchObserver.disconnect();
    window.__searchObserver = new MutationObserver(() => {
      const grid = document.querySelector('.grid[role=grid]');
      if (grid && grid.getAttribute('aria-busy') === 'true') window.__searchStarted = true;
    });
    window.__searchObserver.observe(document.querySelector('main'), { attributes: true, subtree: true, attributeFilter: ['aria-busy'] });
  });
}

// Every row of the explorer's virtual grid, newest first, by scrolling its body a screen at a
// time: only the rows in view exist in the DOM, and more pages load (keyset) near the end. Ends
// when the grid says it has all (aria-rowcount set) and the last one was seen.
async function collectRows(page) {
  await searchAnswered(page);
  const pagesBefore = page.nextPages;
  const byIndex = new Map();
  const conflicts = [];
  let pagesSeen = 0;
  for (let step = 0; step < 100000; step++) {
    const state = await page.evaluate(() => {
      const body = document.querySelector('.grid-body');
      const grid = document.querySelector('.grid[role=grid]');
      const rows = [...body.querySelectorAll('[role=row][data-id]')].map((r) => [Number(r.dataset.index), r.dataset.id]);
      return {
        rows,
        top: body.scrollTop,
        height: body.clientHeight,
        scrollHeight: body.scrollHeight,
        count: Math.round(document.querySelector('.grid-spacer').offsetHeight / 28),
        rowcount: Number(grid.getAttribute('aria-rowcount')),
      };
    });
    for (const [index, id] of state.rows) {
      if (byIndex.has(index) && byIndex.get(index) !== id) conflicts.push(`row ${index} was ${byIndex.get(index)}, then ${id}`);
      byIndex.set(index, id);
    }
    const atEnd = state.top + state.height >= state.scrollHeight - 1;
    if (atEnd && state.rowcount !== -1) break;
    if (atEnd) {
      // More rows are coming (the next keyset page) or the grid is about to say it has all.
      pagesSeen++;
      await page.waitForFunction(
        (count) => {
          const grid = document.querySelector('.grid[role=grid]');
          const spacer = document.querySelector('.grid-spacer');
          return grid.getAttribute('aria-rowcount') !== '-1' || Math.round(spacer.offsetHeight / 28) > count;
        },
        {},
        state.count
      );
      continue;
    }
    const target = Math.min(state.top + state.height, state.scrollHeight - state.height);
    await page.evaluate((top) => {
      document.querySelector('.grid-body').scrollTop = top;
    }, target);
    // Drawn: the rows at the new top and bottom of the view exist.
    await page.waitForFunction(
      (rowHeight) => {
        const body = document.querySelector('.grid-body');
        const count = Math.round(document.querySelector('.grid-spacer').offsetHeight / rowHeight);
        const first = Math.floor(body.scrollTop / rowHeight);
        const last = Math.min(count - 1, Math.floor((body.scrollTop + body.clientHeight - 1) / rowHeight));
        return body.querySelector(`[data-index="${first}"]`) && body.querySelector(`[data-index="${last}"]`);
      },
      {},
      ROW_HEIGHT
    );
  }
  const rowcount = await page.$eval('.grid[role=grid]', (g) => Number(g.getAttribute('aria-rowcount')));
  const ids = [];
  const missing = [];
  for (let i = 0; i < rowcount - 1; i++) {
    if (byIndex.has(i)) ids.push(byIndex.get(i));
    else missing.push(i);
  }
  return { ids, missing: missing.slice(0, 20), missingCount: missing.length, conflicts: conflicts.slice(0, 20), endWaits: pagesSeen, nextPages: page.nextPages - pagesBefore };
}

async function typeInto(page, selector, text) {
  await page.click(selector, { clickCount: 3 });
  await page.keyboard.press('Backspace');
  if (text) await page.type(selector, text);
}

// A search made in the explorer's form: level chips clicked (each searches at once), then the
// inputs (by id: explore-service, …) typed and Search pressed.
async function fillSearch(page, form) {
  for (const level of form.levels || []) {
    await armSearch(page);
    await page.evaluate((level) => {
      [...document.querySelectorAll('.chips button')].find((b) => b.textContent.trim() === level).click();
    }, level);
    await searchAnswered(page);
  }
  for (const name of ['q', 'service', 'app', 'device_id', 'host', 'attrs'])
    if (form[name] !== undefined) await typeInto(page, `#explore-${name}`, form[name]);
  await armSearch(page);
  await page.click('form.filters button[type=submit]');
  await searchAnswered(page);
}

const commands = {
  // A search typed into the form, then every row collected by scrolling; optionally a second
  // search opened by its address (paging to the end of a large one).
  async rows(args, report) {
    const browser = await launch(args.viewport);
    try {
      const page = await openPage(browser, report);
      await page.goto(args.base + args.path);
      await searchAnswered(page);
      if (args.form) await fillSearch(page, args.form);
      report.search = await page.evaluate(() => location.search);
      Object.assign(report, await collectRows(page));
      if (args.then) {
        await page.goto(args.base + args.then);
        report.then = await collectRows(page);
      }
    } finally {
      await browser.close();
    }
  },

  // Drags across part of the histogram (uPlot's .u-over); the address's from/to and the rows.
  async zoom(args, report) {
    const browser = await launch();
    try {
      const page = await openPage(browser, report);
      await page.goto(args.base + args.path);
      await page.waitForSelector('.histogram .u-over');
      await searchAnswered(page);
      report.before = await page.evaluate(() => location.search);
      await armSearch(page);
      const box = await (await page.$('.histogram .u-over')).boundingBox();
      const [a, b] = args.fraction || [0.3, 0.7];
      const y = box.y + box.height / 2;
      await page.mouse.move(box.x + box.width * a, y);
      await page.mouse.down();
      for (let i = 1; i <= 10; i++) await page.mouse.move(box.x + box.width * (a + ((b - a) * i) / 10), y);
      await page.mouse.up();
      await searchAnswered(page);
      report.search = await page.evaluate(() => location.search);
      Object.assign(report, await collectRows(page));
    } finally {
      await browser.close();
    }
  },

  // The live tail shows a record ingested (through the API, from here) after the page opened.
  async tail(args, report) {
    const browser = await launch();
    try {
      const page = await openPage(browser, report);
      await page.goto(args.base + (args.path || '/ui/tail'));
      await page.waitForSelector('.dot.live');
      const ingest = (records) => ingestRecords(args.base, records, args.key);
      // The server's tail starts reading the stream when its first subscriber comes, a moment
      // after the socket opened: a probe (matching the page's filter, "probe <n>") until one
      // shows, so that the records below cannot fall into that moment.
      const deadline = Date.now() + WAIT;
      for (let n = 1; ; n++) {
        await ingest([{ level: 'DEBUG', ...(args.probe || {}), message: `probe ${n}` }]);
        const shown = await page
          .waitForFunction(() => [...document.querySelectorAll('.tail-list .c-message')].some((e) => e.textContent.startsWith('probe ')), { timeout: 1000 })
          .then(() => true, () => false);
        if (shown) break;
        if (Date.now() > deadline) throw new Error('no probe reached the tail');
      }
      const started = Date.now();
      report.ingestStatus = await ingest(args.ingest);
      await page.waitForFunction(
        (texts) => {
          const shown = [...document.querySelectorAll('.tail-list .c-message')].map((e) => e.textContent);
          return texts.every((t) => shown.includes(t));
        },
        {},
        args.expect
      );
      report.shownAfterMs = Date.now() - started;
      report.messages = await page.$$eval('.tail-list .c-message', (els) => els.map((e) => e.textContent).filter((t) => !t.startsWith('probe ')));
      if (args.hostile) report.hostile = await hostileCheck(page, '.tail-list', args.expect);
    } finally {
      await browser.close();
    }
  },

  // Log messages that are markup or script stay text: in the explorer's rows, in the record
  // panel, in the tail (the caller's `tail` run with hostile=true).
  async hostile(args, report) {
    const browser = await launch();
    try {
      const page = await openPage(browser, report);
      await page.goto(args.base + args.path);
      await searchAnswered(page);
      report.rows = await hostileCheck(page, '.grid-body', args.messages);
      report.panels = [];
      for (const message of args.messages) {
        await page.evaluate((message) => {
          const row = [...document.querySelectorAll('.grid-body [role=row]')].find(
            (r) => r.querySelector('.c-message').textContent === message
          );
          row.click();
        }, message);
        await page.waitForFunction(
          (message) => {
            const pre = document.querySelector('.detail pre.json');
            return pre && pre.textContent.includes(`"message": ${JSON.stringify(message)}`);
          },
          {},
          message
        );
        report.panels.push(await hostileCheck(page, '.detail', []));
      }
      report.allImages = await page.$$eval('img', (els) => els.map((e) => e.outerHTML));
      report.scripts = await page.$$eval('script', (els) => els.map((e) => e.getAttribute('src') || e.outerHTML));
      report.javascriptLinks = await page.$$eval('a', (els) => els.map((e) => e.getAttribute('href')).filter((h) => /^\s*javascript:/i.test(h || '')));
    } finally {
      await browser.close();
    }
  },

  // From the top of each page, Tab only: every visible, enabled control gets focus; on the
  // explorer Enter on a row opens the record, Escape closes it and focus comes back to the row.
  async keyboard(args, report) {
    const browser = await launch();
    try {
      const page = await openPage(browser, report);
      report.pages = [];
      // Every page of the navigation; the explorer at the caller's address (its seeded range).
      await page.goto(args.base + '/ui/explore');
      const pages = (
        await page.$$eval('nav[aria-label="Pages"] a[href^="/ui/"]', (links) => links.map((a) => a.getAttribute('href')))
      ).map((where) => (where === '/ui/explore' && args.explore ? args.explore : where));
      for (const where of pages) {
        await page.goto(args.base + where);
        // Drawn with its data: controls that come with it (a device's link) count too.
        await settled(page, where.replace(/^\/ui\//, '').split(/[/?]/)[0]);
        report.pages.push({ path: where, ...(await tabThrough(page)) });
        if (where.startsWith('/ui/explore')) await rowByKeyboard(page, (report.record = {}));
      }
    } finally {
      await browser.close();
    }
  },

  // Every page of the navigation in both themes, 1280×800 PNG, into `out` as <page>-<theme>.png.
  async screenshots(args, report) {
    const browser = await launch();
    try {
      const page = await openPage(browser, report);
      await page.goto(args.base + '/ui/explore');
      const pages = await page.$$eval('nav[aria-label="Pages"] a[href^="/ui/"]', (links) => links.map((a) => a.getAttribute('href')));
      await page.close();
      fs.mkdirSync(args.out, { recursive: true });
      report.files = [];
      for (const theme of ['light', 'dark']) {
        for (const where of pages) {
          const name = where.replace(/^\/ui\//, '').split(/[/?]/)[0];
          const shot = await openPage(browser, report, { theme });
          await shot.goto(args.base + (name === 'explore' && args.explore ? args.explore : where));
          await settled(shot, name);
          if (name === 'tail' && args.tail_records) {
            // Something to show: the records again until they arrive (the server's tail starts
            // reading a moment after the socket opened), then quiet.
            const deadline = Date.now() + WAIT;
            for (;;) {
              await ingestRecords(args.base, args.tail_records);
              const shown = await shot
                .waitForFunction((n) => document.querySelectorAll('.tail-list li').length >= n, { timeout: 1000 }, args.tail_records.length)
                .then(() => true, () => false);
              if (shown) break;
              if (Date.now() > deadline) throw new Error('the tail showed none of the records');
            }
            await settled(shot, name);
          }
          const file = path.join(args.out, `${name}-${theme}.png`);
          await shot.screenshot({ path: file, type: 'png' });
          report.files.push(file);
          const actual = await shot.evaluate(() => document.documentElement.dataset.theme);
          if (actual !== theme) report.problems.push(`${name}: theme ${actual}, wanted ${theme}`);
          await shot.close();
        }
      }
    } finally {
      await browser.close();
    }
  },

  // auth = keys: the UI asks for a key; a key without the query scope gets the 403's scope
  // message; a query key shows the rows; the keys page (admin) names the missing scope.
  async auth(args, report) {
    const browser = await launch();
    try {
      const page = await openPage(browser, report);
      await page.goto(args.base + args.path);
      await page.waitForSelector('dialog.key-dialog[open]');
      report.dialogText = await page.$eval('dialog.key-dialog', (d) => d.textContent);
      await page.type('dialog.key-dialog input[name=key]', args.ingest_key);
      await page.click('dialog.key-dialog button[type=submit]');
      await page.waitForSelector('.notice.error');
      report.ingestKeyNotice = await page.$eval('.notice.error', (n) => n.textContent);
      // The key is kept for the session: forget it and give the query key.
      await page.evaluate(() => [...document.querySelectorAll('.tools button')].find((b) => /Forget key/.test(b.textContent)).click());
      await page.evaluate(() => [...document.querySelectorAll('.tools button')].find((b) => /Enter key/.test(b.textContent)).click());
      await page.waitForSelector('dialog.key-dialog[open]');
      await page.type('dialog.key-dialog input[name=key]', args.query_key);
      await page.click('dialog.key-dialog button[type=submit]');
      await page.goto(args.base + args.path); // the same tab: the session keeps the key
      await searchAnswered(page);
      report.dialogOpenAfterKey = await page.$eval('dialog.key-dialog', (d) => d.open);
      report.rows = await collectRows(page);
      if (args.keys_page) {
        await page.goto(args.base + args.keys_page);
        await page.waitForSelector('.notice.error');
        report.keysPageNotice = await page.$eval('.notice.error', (n) => n.textContent);
      }
    } finally {
      await browser.close();
    }
  },

  // An alert rule created through the alerts page's form (ids alert-<field>); the caller then
  // ingests matching logs and waits for its webhook receiver.
  async alert(args, report) {
    const browser = await launch();
    try {
      const page = await openPage(browser, report);
      await page.goto(args.base + '/ui/alerts');
      await page.waitForSelector('#alert-name');
      for (const [field, value] of Object.entries(args.fields)) {
        const selector = `#alert-${field}`;
        // A target's fields exist once "Add target" made its row.
        if (field.startsWith('target-') && !(await page.$(selector))) await page.click('#alert-add-target');
        await page.waitForSelector(selector);
        const tag = await page.$eval(selector, (e) => `${e.tagName}:${e.type || ''}`);
        if (tag.startsWith('SELECT')) await page.select(selector, String(value));
        else if (tag === 'INPUT:checkbox') {
          const checked = await page.$eval(selector, (e) => e.checked);
          if (checked !== !!value) await page.click(selector);
        } else await typeInto(page, selector, String(value));
      }
      const before = await page.$$eval('[data-rule-id]', (els) => els.length).catch(() => 0);
      await page.evaluate(() => {
        const form = document.querySelector('#alert-name').closest('form');
        form.querySelector('button[type=submit]').click();
      });
      // Created: the rule's name is listed, and no validation message is shown.
      await page.waitForFunction(
        (name) => [...document.querySelectorAll('main table, main ul, main ol')].some((l) => l.textContent.includes(name)),
        {},
        args.fields.name
      );
      report.listedBefore = before;
      report.errors = await page.$$eval('.notice.error, .field-error, [role=alert]', (els) => els.map((e) => e.textContent.trim()).filter(Boolean));
      report.secret = await page.evaluate(() => {
        const shown = document.querySelector('[data-secret], .secret, code.secret');
        return shown ? shown.textContent.trim() : '';
      });
    } finally {
      await browser.close();
    }
  },

  async lighthouse(args, report) {
    const { default: lighthouse } = await import('lighthouse');
    const chromeLauncher = await import('chrome-launcher');
    const started = Date.now();
    const chrome = await chromeLauncher.launch({
      chromePath: CHROMIUM,
      chromeFlags: ['--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    });
    try {
      const result = await lighthouse(
        args.base + args.path,
        { port: chrome.port, output: ['json', 'html'], logLevel: 'error', maxWaitForLoad: WAIT },
        {
          extends: 'lighthouse:default',
          settings: {
            // An operator's tool on a desk: desktop form factor and throttling.
            formFactor: 'desktop',
            screenEmulation: { mobile: false, width: 1350, height: 940, deviceScaleFactor: 1, disabled: false },
            throttling: { rttMs: 40, throughputKbps: 10240, cpuSlowdownMultiplier: 1, requestLatencyMs: 0, downloadThroughputKbps: 0, uploadThroughputKbps: 0 },
            throttlingMethod: 'simulate',
            onlyCategories: ['performance', 'accessibility', 'best-practices'],
          },
        }
      );
      fs.mkdirSync(args.out, { recursive: true });
      fs.writeFileSync(path.join(args.out, 'lighthouse-explore.json'), result.report[0]);
      fs.writeFileSync(path.join(args.out, 'lighthouse-explore.html'), result.report[1]);
      const lhr = result.lhr;
      report.scores = {};
      report.failing = {};
      for (const [id, category] of Object.entries(lhr.categories)) {
        report.scores[id] = Math.round(category.score * 100);
        report.failing[id] = category.auditRefs
          .filter((ref) => ref.weight > 0 && lhr.audits[ref.id].score !== null && lhr.audits[ref.id].score < 0.9)
          .map((ref) => `${ref.id} (${lhr.audits[ref.id].score}): ${lhr.audits[ref.id].title}${lhr.audits[ref.id].displayValue ? ' — ' + lhr.audits[ref.id].displayValue : ''}`);
      }
      if (lhr.runtimeError) report.problems.push(`lighthouse: ${lhr.runtimeError.message}`);
      report.seconds = Math.round((Date.now() - started) / 1000);
    } finally {
      await chrome.kill();
    }
  },
};

// POST /api/v1/ingest with `records` as NDJSON; the status.
async function ingestRecords(base, records, key) {
  const response = await fetch(base + '/api/v1/ingest', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-ndjson', ...(key ? { 'X-API-Key': key } : {}) },
    body: records.map((r) => JSON.stringify(r)).join('\n') + '\n',
  });
  return response.status;
}

// The page is drawn and quiet: its section is there, nothing says it is loading, the explorer
// answered, the tail is live, and no request is in flight.
async function settled(page, name) {
  await page.waitForFunction(() => {
    const main = document.querySelector('main');
    return main && main.querySelector('.page') && !main.querySelector('[aria-busy="true"]') && !/Loading…/.test(main.textContent);
  });
  if (name === 'explore') await searchAnswered(page);
  if (name === 'tail') await page.waitForSelector('.dot.live');
  await page.waitForNetworkIdle({ idleTime: 250, timeout: WAIT });
  await page.evaluate(() => document.fonts.ready.then(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))));
}

// Within `scope`: no element made from a message (img, script, iframe, an element with an on*
// attribute or a javascript: link), and each of `texts` present as the exact text of an element.
async function hostileCheck(page, scope, texts) {
  return page.evaluate(
    (scope, texts) => {
      const root = document.querySelector(scope);
      const found = [];
      for (const el of root.querySelectorAll('*')) {
        const tag = el.tagName.toLowerCase();
        if (['img', 'script', 'iframe', 'object', 'embed', 'svg'].includes(tag)) found.push(el.outerHTML);
        for (const attr of el.getAttributeNames())
          if (/^on/i.test(attr) || (/^(href|src|action)$/i.test(attr) && /javascript:/i.test(el.getAttribute(attr)))) found.push(el.outerHTML);
      }
      const leaves = [...root.querySelectorAll('*')].map((e) => e.textContent);
      return { elements: found, absent: texts.filter((t) => !leaves.includes(t)) };
    },
    scope,
    texts
  );
}

// Tab from the top of the page until focus has come round again (bounded); which of the
// page's visible, enabled controls never got it.
async function tabThrough(page) {
  const total = await page.evaluate(() => {
    document.activeElement && document.activeElement.blur();
    window.scrollTo(0, 0);
    const selector = 'a[href], button, input, select, textarea, [tabindex="0"]';
    let n = 0;
    for (const el of document.querySelectorAll(selector)) {
      const style = getComputedStyle(el);
      const visible = el.getClientRects().length > 0 && style.visibility !== 'hidden' && !el.closest('dialog:not([open])');
      if (!visible || el.disabled || el.closest('[inert]')) continue;
      el.dataset.kbd = String(n++);
    }
    return n;
  });
  const reached = new Set();
  const order = [];
  let first = null;
  for (let i = 0; i < total * 2 + 10; i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      return el.dataset.kbd !== undefined ? `#${el.dataset.kbd}` : `other:${el.tagName}.${el.className}`;
    });
    if (id === null) {
      if (reached.size > 0) break; // out of the page: round once
      continue;
    }
    if (id === first) break;
    if (first === null) first = id;
    reached.add(id);
    order.push(id);
  }
  const missing = await page.evaluate(
    (reached) =>
      [...document.querySelectorAll('[data-kbd]')]
        .filter((el) => !reached.includes(`#${el.dataset.kbd}`))
        .map((el) => `${el.tagName.toLowerCase()} "${(el.getAttribute('aria-label') || el.textContent || el.name || el.id || '').trim().slice(0, 40)}"`),
    [...reached]
  );
  // (Focus on an element that came after the count, e.g. a refreshed list's, is listed apart.)
  const focused = [...reached].filter((id) => id.startsWith('#')).length;
  return { controls: total, focused, missing, outside: order.filter((id) => id.startsWith('other:')) };
}

// Focus has left the body (where a removed element leaves it), or a moment passed: bounded,
// since focus staying on the body is what the caller reports.
async function focusSettled(page) {
  await page.waitForFunction(() => document.activeElement !== document.body, { timeout: 5000 }).catch(() => {});
}

// Tab to the grid's row, Enter opens the record panel (focus on its Close), Escape closes it and
// focus is on the row again.
async function rowByKeyboard(page, result) {
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  for (let i = 0; i < 200; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement.matches('.grid-body [role=row]'))) break;
  }
  result.rowFocused = await page.evaluate(() => document.activeElement.matches('.grid-body [role=row]'));
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction(() => document.activeElement.dataset.index === '1');
  result.rowId = await page.evaluate(() => document.activeElement.dataset.id);
  await page.keyboard.press('Enter');
  await page.waitForSelector('aside.detail');
  await page.waitForFunction(() => document.activeElement.matches('aside.detail button'));
  result.panelTitle = await page.$eval('aside.detail h2', (h) => h.textContent);
  result.focusInPanel = await page.evaluate(() => document.activeElement.textContent.trim());
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.querySelector('aside.detail'));
  await focusSettled(page);
  result.focusAfterEscape = await page.evaluate(() => document.activeElement.dataset.id || document.activeElement.tagName);
  if (result.focusAfterEscape !== result.rowId) // reported; go on from the row to try Close
    await page.evaluate((id) => document.querySelector(`.grid-body [data-id="${id}"]`).focus(), result.rowId);
  // Close with its button (keyboard: Enter on the focused Close).
  await page.keyboard.press('Enter');
  await page.waitForSelector('aside.detail');
  await page.waitForFunction(() => document.activeElement.matches('aside.detail button'));
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => !document.querySelector('aside.detail'));
  await focusSettled(page);
  result.focusAfterClose = await page.evaluate(() => document.activeElement.dataset.id || document.activeElement.tagName);
}

async function main() {
  const [command, json] = process.argv.slice(2);
  const report = { command, problems: [] };
  if (!commands[command]) {
    console.error(`usage: node ui.js <${Object.keys(commands).join('|')}> '<json>'`);
    process.exit(2);
  }
  const started = Date.now();
  try {
    await commands[command](JSON.parse(json || '{}'), report);
  } catch (error) {
    report.problems.push(`failed: ${error.stack || error.message}`);
  }
  report.ms = Date.now() - started;
  process.stdout.write(JSON.stringify(report) + '\n');
  process.exit(0);
}

main();
