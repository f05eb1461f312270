// Page timing on the rig's 100,000-message INBOX (not a test; tests/e2e/bench-page.sh runs it).
// Signs in, then repeatedly leaves INBOX for another folder and clicks INBOX again, timing
// from the click to (1) the newest rows on screen and (2) every header of the folder loaded;
// then scrolls the loaded list and times the frames.
//
//   BENCH_BASE_URL=http://127.0.0.1:18280 BENCH_USER=carol BENCH_PASS=… node tests/e2e/bench-page.mjs
//
// Optional: BENCH_SERVER_ID (default dovecot-tls), BENCH_RUNS (default 5),
//           BENCH_CHROMIUM (default /usr/bin/chromium), BENCH_CACHE=off (the page without
//           IndexedDB, so every open fetches the folder from the server, as a first visit does).
import { chromium } from 'playwright-core';

const env = process.env;
const BASE_URL = (env.BENCH_BASE_URL || '').replace(/\/+$/, '');
const SERVER_ID = env.BENCH_SERVER_ID || 'dovecot-tls';
const RUNS = Number(env.BENCH_RUNS || 5);
const CACHE = env.BENCH_CACHE !== 'off';
if (!BASE_URL || !env.BENCH_USER || !env.BENCH_PASS) {
  console.error('set BENCH_BASE_URL, BENCH_USER and BENCH_PASS (tests/e2e/bench-page.sh does)');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: env.BENCH_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
page.setDefaultTimeout(120_000);
// Without IndexedDB the page keeps nothing between opens (ui/cache.js: "no cache").
if (!CACHE) await page.addInitScript(() => Object.defineProperty(window, 'indexedDB', { value: undefined }));

/** Click the folder `name` and time, inside the page, when its first row and its full sync show. */
async function timeOpen(name) {
  await page.evaluate((want) => {
    window.__bench = {};
    const item = document.querySelector(`#folder-list .folder[data-name="${want}"]`);
    item.addEventListener('click', () => {
      const t0 = performance.now();
      const pane = document.getElementById('message-pane');
      const check = () => {
        const first = document.querySelector('#message-list .msg-row[aria-posinset="1"][data-uid]');
        if (window.__bench.firstRows === undefined && pane.dataset.mailbox === want && first) {
          window.__bench.firstRows = performance.now() - t0;
        }
        if (pane.dataset.mailbox === want && pane.dataset.synced === 'true' && window.__bench.firstRows !== undefined) {
          window.__bench.synced = performance.now() - t0;
          return;
        }
        requestAnimationFrame(check);
      };
      requestAnimationFrame(check);
    }, { capture: true, once: true });
  }, name);
  await page.click(`#folder-list .folder[data-name="${name}"]`);
  await page.waitForFunction(() => window.__bench.synced !== undefined);
  return page.evaluate(() => window.__bench);
}

await page.goto(`${BASE_URL}/`);
await page.waitForSelector('#sign-in:not([disabled])');
await page.selectOption('#server', SERVER_ID);
await page.fill('#user', env.BENCH_USER);
await page.fill('#password', env.BENCH_PASS);
await page.click('#sign-in');
await page.waitForSelector('#message-pane[data-synced="true"]');
const count = await page.textContent('#mailbox-count');
const other = await page.$eval('#folder-list .folder:not(.current)[data-name]', (n) => n.dataset.name);

const runs = [];
for (let i = 0; i < RUNS; i++) {
  await page.click(`#folder-list .folder[data-name="${other}"]`);
  await page.waitForFunction((want) => {
    const pane = document.getElementById('message-pane');
    return pane.dataset.mailbox === want && pane.dataset.synced === 'true';
  }, other);
  runs.push(await timeOpen('INBOX'));
}
// Scrolling the synced folder: 120 jumps of 25,000 px (~700 rows), each waited out for two
// frames; the time per jump covers the rows' refill, style, layout and paint.
const scroll = await page.evaluate(async () => {
  const scroller = document.getElementById('list-scroller');
  scroller.scrollTop = 0;
  const times = [];
  let rows = 0;
  for (let i = 0; i < 120; i++) {
    const t = performance.now();
    scroller.scrollTop += 25_000;
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    times.push(performance.now() - t);
    rows = Math.max(rows, document.querySelectorAll('#message-list .msg-row').length);
  }
  times.sort((a, b) => a - b);
  return { median: times[60], p95: times[113], rows };
});
await browser.close();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${Math.round(x)} ms`;
console.log(`INBOX: ${count}; ${RUNS} runs (leave for ${other}, click INBOX); ` +
  `${CACHE ? 'IndexedDB cache on: INBOX opens from it' : 'no IndexedDB: every open fetches from the server'}`);
console.log('run  first rows  whole folder');
runs.forEach((r, i) => console.log(`${String(i + 1).padStart(3)}  ${ms(r.firstRows).padStart(10)}  ${ms(r.synced).padStart(12)}`));
console.log(`median: first rows ${ms(median(runs.map((r) => r.firstRows)))}, whole folder ${ms(median(runs.map((r) => r.synced)))}`);
console.log(`scrolling: ${ms(scroll.median)} median, ${ms(scroll.p95)} p95 per jump of two frames; ` +
  `at most ${scroll.rows} rows in the DOM`);
