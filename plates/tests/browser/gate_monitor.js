// Headless Chromium on the plate-read pages. Logs in, opens the gate monitor, prints {"ready": true}
// once the page's first feed answer is in (the test then stores a read), waits for <plate> on a gate
// and prints {"seen": <epoch ms>}; then screenshots (1440x900) the monitor and the "Plate reads" page
// with the first read opened, and prints the final result.
// Usage: node gate_monitor.js <base_url> <username> <password> <plate> <screenshot_dir> <locale>
const { chromium } = require('playwright-core');

(async () => {
  const [base, username, password, plate, shots, locale] = process.argv.slice(2);
  const fs = require('fs'), os = require('os'), path = require('path');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lprnvr-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    locale: locale || 'en-US',
    viewport: { width: 1440, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
  const result = { ok: false };
  const lang = (locale || 'en').slice(0, 2);
  try {
    const page = context.pages()[0] || await context.newPage();
    await page.goto(base + '/admin/login/?next=/admin/plates/plateread/monitor/');
    await page.fill('#id_username', username);
    await page.fill('#id_password', password);
    await Promise.all([page.waitForNavigation(), page.click('input[type=submit]')]);
    await page.waitForFunction(() => document.body.dataset.feed === 'ready', null, { timeout: 20000 });
    result.gates = await page.$$eval('.gate', (gates) => gates.length);
    console.log(JSON.stringify({ ready: true }));
    await page.waitForFunction(
      (p) => Array.from(document.querySelectorAll('.gate .latest .plate-number')).some((n) => n.textContent === p),
      plate, { timeout: 10000, polling: 50 });
    console.log(JSON.stringify({ seen: Date.now() }));
    result.latestClass = await page.evaluate((p) => Array.from(document.querySelectorAll('.gate .latest'))
      .find((n) => n.querySelector('.plate-number').textContent === p).className, plate);
    result.lang = await page.evaluate(() => document.documentElement.lang);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(shots, `gate-monitor-${lang}.png`) });

    await page.goto(base + '/admin/plates/plateread/log/');
    await page.waitForFunction(() => document.body.dataset.reads === 'loaded', null, { timeout: 20000 });
    result.rows = await page.$$eval('#reads tbody tr[data-id]', (rows) => rows.length);
    await page.click('#reads tbody tr[data-id]');
    await page.waitForSelector('#read-detail .clip-state.not_recorded, #read-detail video', { timeout: 20000 });
    result.clip = await page.$eval('#read-detail .clip', (n) => n.textContent);
    result.blackPlayer = await page.$$eval('#read-detail video', (v) => v.length) > 0;
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(shots, `plate-reads-${lang}.png`) });
    // A filter that matches nothing, then the fuzzy one that forgives 0/O: the table follows the form.
    await page.fill('#read-filters input[name=plate]', 'NOSUCH');
    await page.click('#read-filters input[type=submit]');
    await page.waitForFunction(() => !document.querySelector('#reads tbody tr[data-id]'), null, { timeout: 10000 });
    await page.fill('#read-filters input[name=plate]', plate.replace(/0/g, 'O'));
    await page.selectOption('#read-filters select[name=match]', 'fuzzy');
    await page.click('#read-filters input[type=submit]');
    await page.waitForSelector('#reads tbody tr[data-id]', { timeout: 10000 });
    result.csv = await page.$eval('#read-csv', (a) => a.getAttribute('href'));
    result.ok = true;
  } catch (err) {
    result.error = String(err);
    try { await context.pages()[0].screenshot({ path: path.join(shots, `failure-${lang}.png`) }); } catch (e) {}
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
})();
