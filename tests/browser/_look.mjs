import puppeteer from 'puppeteer-core';
const [base, path, theme, out, action] = process.argv.slice(2);
const browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
const page = await browser.newPage();
await page.setViewport({ width: 1280, height: 800 });
page.on('console', (m) => m.type() !== 'log' && console.log('console', m.type(), m.text()));
page.on('pageerror', (e) => console.log('pageerror', e.message));
page.on('response', (r) => { if (r.status() >= 400) console.log('http', r.status(), r.url()); });
await page.evaluateOnNewDocument((t) => localStorage.setItem('logpipe.theme', t), theme);
await page.goto(base + path, { waitUntil: 'networkidle0' });
if (action === 'open') { await page.waitForSelector('[data-id]'); await page.click('[data-id]'); await new Promise(r => setTimeout(r, 300)); }
if (action === 'keys') { for (let i = 0; i < 40; i++) { await page.keyboard.press('Tab'); const d = await page.evaluate(() => { const e = document.activeElement; return e.tagName + ' ' + (e.id || e.getAttribute('aria-label') || e.textContent.slice(0, 30)); }); console.log(i, d); } }
await page.screenshot({ path: out });
await browser.close();
