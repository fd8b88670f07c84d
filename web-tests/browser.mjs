// Browser tests of the Evident web interface, in Debian's Chromium driven by playwright-core.
// Run by the Rust test `server::browser` (crates/cli/tests/cli/server.rs), which prepares a
// workspace, starts `evident serve` and passes:
//   BASE_URL, ADMIN_EMAIL, ADMIN_PASSWORD, EMPLOYEE_EMAIL, EMPLOYEE_PASSWORD,
//   AUDITOR_EMAIL, AUDITOR_PASSWORD, OWNER_EMAIL, OWNER_PASSWORD, CONTROL, POLICY,
//   ENGAGEMENT, REQUEST, SAMPLE_CONTROL (fieldwork), SCREENSHOTS (a folder),
//   CHROMIUM (default /usr/bin/chromium).
// Every step asserts what a person would see; the first failure exits non-zero.

import { chromium } from 'playwright-core';
import { createHmac } from 'node:crypto';
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const BASE = env('BASE_URL').replace(/\/$/, '');
const SHOTS = env('SCREENSHOTS');
mkdirSync(SHOTS, { recursive: true });

function check(cond, what) {
  if (!cond) throw new Error(`FAILED: ${what}`);
  console.log(`ok - ${what}`);
}

// RFC 6238 (SHA-1, 30 s, 6 digits) from a base32 secret, as an authenticator app computes it.
function totp(base32, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const bytes = [];
  for (const c of base32.replace(/=+$/, '')) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) { bytes.push((value >>> (bits - 8)) & 255); bits -= 8; }
  }
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const h = createHmac('sha1', Buffer.from(bytes)).update(counter).digest();
  const o = h[19] & 15;
  const n = ((h[o] & 127) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1_000_000).padStart(6, '0');
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

// axe-core, evaluated in the page through the DevTools protocol (the pages' Content Security
// Policy rightly refuses injected script tags).
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// The WCAG 2.1 A and AA rules on the page as it stands; any serious or critical violation fails
// with the rule, its impact and where.
async function accessible(page, what) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const said = bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  check(bad.length === 0, `${what}: no serious or critical accessibility violation${said.length ? `\n  ${said.join('\n  ')}` : ''}`);
}

// Whether anything in the page is wider than the screen (a clipped column, an id that will not
// break): the document scrolls sideways only inside the tables' own scrolling boxes.
// Returns '' when it fits, else the first elements that stick out.
async function overflowing(page) {
  return page.evaluate(() => {
    const w = window.innerWidth;
    if (document.documentElement.scrollWidth <= w + 1) return '';
    // Inside a box that scrolls on its own (the navigation bar), sticking out is by design.
    const scrolls = (e) => {
      for (let p = e.parentElement; p; p = p.parentElement) {
        if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return true;
      }
      return false;
    };
    const wide = [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > w + 1 && !scrolls(e));
    const name = (e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${e.className ? `.${String(e.className).trim().split(/\s+/).join('.')}` : ''}`;
    const anyWide = [...document.querySelectorAll('body *')]
      .filter((e) => e.scrollWidth > w + 1 && getComputedStyle(e).overflowX === 'visible');
    return wide.slice(0, 4).map(name).join(', ')
      || `the page (${document.documentElement.scrollWidth}px; in main: ${anyWide.slice(-6).map((e) => `${name(e)} ${e.scrollWidth}`).join(', ')})`;
  });
}

// A TOTP code works once, so a second sign-in within the same 30-second step waits for the next.
const lastStep = new Map();
async function freshCode(secret) {
  for (;;) {
    const step = Math.floor(Date.now() / 30000);
    if ((lastStep.get(secret) ?? -1) < step) {
      lastStep.set(secret, step);
      return totp(secret);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

// Passwords people chose in place of the one-time passwords they were given.
const chosen = new Map();

// Signs in; enrols or answers the second factor when asked, and replaces a one-time password
// at the first sign-in. Returns the TOTP secret if enrolled.
async function signIn(browser, email, password, secret) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${BASE}/`);
  check(page.url().includes('/login'), `${email}: an anonymous visit is sent to the sign-in page`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(chosen.get(email) ?? password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState();
  if (page.url().includes('/login/enroll')) {
    secret = (await page.locator('#totp-secret').textContent()).trim();
    check(/^[A-Z2-7]{32}$/.test(secret), `${email}: enrolment shows a base32 secret`);
    // A wrong code is refused and the page says why.
    await page.getByLabel('Code from your authenticator app').fill('000000' === totp(secret) ? '111111' : '000000');
    await page.getByRole('button', { name: 'Turn on and continue' }).click();
    check(await page.locator('.flash.error').isVisible(), `${email}: a wrong enrolment code is refused with a message`);
    await page.getByLabel('Code from your authenticator app').fill(await freshCode(secret));
    await page.getByRole('button', { name: 'Turn on and continue' }).click();
    await page.waitForLoadState();
  } else if (page.url().includes('/login/totp')) {
    check(!!secret, `${email}: asked for a code only when a secret was enrolled`);
    await page.getByLabel('Code from your authenticator app').fill(await freshCode(secret));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForLoadState();
  }
  if (page.url().includes('/login/password')) {
    check(!chosen.has(email), `${email}: asked to replace the one-time password only at the first sign-in`);
    const mine = `${email.split('@')[0]} chose this passphrase`;
    await page.getByLabel('New password').fill(mine);
    await page.getByLabel('The same password again').fill(`${mine}!`);
    await page.getByRole('button', { name: 'Save and continue' }).click();
    check(await page.locator('.flash.error').isVisible(), `${email}: two different new passwords are refused with a message`);
    await page.getByLabel('New password').fill(mine);
    await page.getByLabel('The same password again').fill(mine);
    await page.getByRole('button', { name: 'Save and continue' }).click();
    await page.waitForLoadState();
    chosen.set(email, mine);
  }
  check(!page.url().includes('/login'), `${email}: signed in`);
  return { context, page, secret };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
try {
  const CONTROL = env('CONTROL');
  const POLICY = env('POLICY');

  // The sign-in page itself, and a wrong password.
  {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${BASE}/login`);
    await shot(page, '01-sign-in');
    await page.getByLabel('Email').fill(env('ADMIN_EMAIL'));
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    check(await page.locator('.flash.error').isVisible(), 'a wrong password is refused with a message');
    check((await page.getByLabel('Email').inputValue()) === env('ADMIN_EMAIL'), 'the email typed is kept after a refusal');
    await ctx.close();
  }

  // Administrator: password, then TOTP enrolment (admins must use a second factor).
  const admin = await signIn(browser, env('ADMIN_EMAIL'), env('ADMIN_PASSWORD'));
  let page = admin.page;
  check(!!admin.secret, 'the administrator had to enrol a second factor');
  await page.goto(`${BASE}/`);
  const score = (await page.locator('#score').textContent()).trim();
  check(/^\d+\/100$/.test(score), `the dashboard shows the readiness score (${score})`);
  check(await page.locator('svg.chart').isVisible(), 'the dashboard draws status by category');
  check((await page.getByRole('heading', { name: 'Top gaps' }).count()) === 1, 'the dashboard lists the top gaps');
  check(/\d+ day\(s\) until/.test(await page.locator('#standing').textContent()), 'the dashboard says how many days are left, and until what');
  check((await page.locator('#phase').textContent()).trim().length > 0, 'the dashboard names the current phase');
  check((await page.locator('#blocking tbody tr').count()) > 0, 'the gaps blocking the audit are rolled up by owner');
  check(!(await page.locator('main').textContent()).includes('evident '), 'the dashboard shows no command lines');
  await shot(page, '02-dashboard');

  // From the dashboard to a closed gap: the blocking gaps lead to the gaps page, whose
  // "Upload it" lands on the control's form with the requirement chosen; the page after the
  // upload says what it changed.
  await page.getByRole('link', { name: 'Every gap, with its fix' }).click();
  await page.waitForURL(/\/gaps/);
  await page.locator('#f-severity').selectOption('missing_evidence');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/severity=missing_evidence/);
  const elsewhere = page.locator('table.data tbody tr').filter({ hasNot: page.locator(`a[href="/controls/${CONTROL}"]`) });
  const closeIt = elsewhere.locator('a[href*="requirement="]').first();
  check((await closeIt.count()) === 1, 'a missing-evidence gap on the gaps page links its fix to the upload');
  await closeIt.click();
  await page.waitForURL(/requirement=/);
  const asked = new URL(page.url()).searchParams.get('requirement');
  check((await page.locator('#requirement').inputValue()) === asked, 'the control page has the missing requirement chosen');
  await page.locator('input[type=file]').setInputFiles({ name: `${asked}.txt`, mimeType: 'text/plain', buffer: Buffer.from(`evidence for ${asked}\n`) });
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.waitForURL(/done=uploaded/);
  const effect = await page.locator('.flash.ok').textContent();
  check(/Readiness score (unchanged at \d+|\d+ → \d+)/.test(effect) && /(is now|is still|is ready)/.test(effect),
    `the page after the upload says what it changed (${effect.trim()})`);

  // What is missing and who owns it: the gaps page, filtered to the unowned, then downloaded.
  await page.goto(`${BASE}/gaps`);
  const allGaps = await page.locator('table.data tbody tr').count();
  check(allGaps > 0, 'the gaps page lists the gaps');
  await page.locator('#f-owner').selectOption('none');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/owner=none/);
  const owners = await page.locator('table.data tbody tr td:nth-child(5)').allTextContents();
  check(owners.length > 0 && owners.every((o) => o.trim() === 'nobody yet'), 'filtered to the gaps nobody owns');
  const [gapsFile] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'CSV' }).click()]);
  const csv = readFileSync(await gapsFile.path(), 'utf8').trim().split('\n');
  check(csv[0].startsWith('Severity,Control,Criterion,What is missing,Owner,Fix,Due'), 'the download has the gap columns');
  check(csv.slice(1).every((line) => !line.includes('@')), 'the download holds the same view (no owner emails among the unowned)');
  await shot(page, '02b-gaps');
  const [matrix] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Control matrix (Excel)' }).click()]);
  check(matrix.suggestedFilename() === 'evident-control-matrix.xlsx' && readFileSync(await matrix.path()).subarray(0, 2).toString() === 'PK',
    'the control matrix downloads from the gaps page');
  await page.getByRole('button', { name: 'Create the remediation plan' }).click();
  await page.waitForURL(/\/tasks\?done=planned-/);
  check((await page.locator('.flash.ok').textContent()).includes('task(s) added'), 'the remediation plan is made from the gaps page');
  const taskTitles = await page.locator('table.data tbody tr td:nth-child(1)').allTextContents();
  check(taskTitles.length > 0 && taskTitles.every((t) => !t.includes('evident ')), 'task titles are sentences, not commands');

  // Controls: filter by status on the server.
  await page.goto(`${BASE}/controls?status=gap`);
  const statuses = await page.locator('table.data tbody td .badge').allTextContents();
  check(statuses.length > 0 && statuses.every((s) => s.trim() === 'gap'), 'the control list filters by status');
  await shot(page, '03-controls');

  // Upload evidence to a control by choosing a file, and see it listed.
  // A gap's fix is a link that does it: "Upload it" lands on the form with the requirement chosen.
  await page.goto(`${BASE}/controls/${CONTROL}`);
  check((await page.locator('main').textContent()).includes('evident ') === false, 'the control page shows no command lines');
  const uploadIt = page.locator('ul.reasons a', { hasText: 'Upload it' }).first();
  check((await uploadIt.count()) === 1, 'a missing-evidence gap offers "Upload it"');
  const wanted = new URL(await uploadIt.getAttribute('href'), BASE).searchParams.get('requirement');
  await uploadIt.click();
  await page.waitForURL(/requirement=/);
  check((await page.locator('#requirement').inputValue()) === wanted, 'the requirement named by the gap is already chosen');
  await page.locator('input[type=file]').setInputFiles({ name: `${wanted}.txt`, mimeType: 'text/plain', buffer: Buffer.from(`evidence for ${wanted}\n`) });
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.waitForURL(/done=uploaded/);
  const reasonsLeft = (await page.locator('ul.reasons').count()) === 0 ? '' : await page.locator('ul.reasons').first().textContent();
  check(!reasonsLeft.includes(`requirement ${wanted} `), 'the gap it closed is gone from the control');

  await page.goto(`${BASE}/controls/${CONTROL}`);
  const before = await page.locator('#evidence-table tbody tr').count();
  const fileName = `access-review-${Date.now()}.txt`;
  await page.locator('input[type=file]').setInputFiles({
    name: fileName, mimeType: 'text/plain', buffer: Buffer.from(`Quarterly access review signed off ${new Date().toISOString()}\n`),
  });
  check((await page.locator('.dropzone .chosen').textContent()).includes(fileName), 'the drop zone names the chosen file');
  await page.getByLabel('Title').fill('Browser test access review');
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.waitForURL(/done=uploaded/);
  check(page.url().includes('done=uploaded'), 'the upload is accepted');
  check((await page.locator('#evidence-table tbody tr').count()) === before + 1, 'the new item is listed under the control');
  check(await page.getByRole('link', { name: 'Browser test access review' }).isVisible(), 'the item is listed by its title');
  await shot(page, '04-control-detail');
  const [pack] = await Promise.all([page.waitForEvent('download'), page.locator('#evidence-pack').click()]);
  check(pack.suggestedFilename() === `evident-${CONTROL}.zip`, 'the control page offers its evidence pack as a zip');
  const packBytes = readFileSync(await pack.path());
  check(packBytes.subarray(0, 2).toString() === 'PK', 'the pack is a zip file');

  // A forbidden type is refused before it is stored, with the reason next to the field.
  await page.locator('input[type=file]').setInputFiles({ name: 'tool.exe', mimeType: 'application/octet-stream', buffer: Buffer.from('MZ') });
  await page.getByLabel('Title').fill('should not be stored');
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.locator('#file-error').waitFor();
  check((await page.locator('#file-error').textContent()).includes('not accepted'), 'a forbidden file type is refused next to the field');
  check((await page.getByLabel('Title').inputValue()) === 'should not be stored', 'the title typed is kept after the refusal');

  await page.goto(`${BASE}/evidence?q=Browser+test`);
  check((await page.locator('table.data tbody tr').count()) === 1, 'the evidence library finds the item by search');
  await shot(page, '05-evidence');

  // A new version supersedes the item; the old one stays in the record.
  await page.getByRole('link', { name: 'Browser test access review' }).click();
  await page.locator('input[type=file]').setInputFiles({ name: 'access-review-v2.txt', mimeType: 'text/plain', buffer: Buffer.from('second version\n') });
  await page.getByRole('button', { name: 'Upload new version' }).click();
  await page.waitForURL(/done=uploaded/);
  check((await page.locator('ol.reasons li').count()) === 2, 'the item lists both versions');
  check((await page.locator('ol.reasons .badge.superseded').count()) === 1, 'the first version is marked superseded');

  // A failing record set aside on a check: a past end date is refused next to its field.
  await page.goto(`${BASE}/checks?status=fail`);
  await page.locator('table.data tbody tr a').first().click();
  const failing = (await page.locator('#failing tbody td .mono').first().textContent()).trim();
  // "Set aside" on the failing row fills the exclusion form with its record.
  await page.locator('#failing tbody tr').first().getByRole('link', { name: 'Set aside' }).click();
  await page.waitForURL(/record=/);
  check((await page.locator('#x-record').inputValue()) === failing, 'a failing row sets its own record aside');
  await page.locator('#x-reason').fill('Service account reviewed by the security lead');
  await page.locator('#x-owner').fill('security@example.com');
  await page.locator('#x-expires').fill('2020-01-01');
  await page.getByRole('button', { name: 'Add exclusion' }).click();
  await page.locator('#x-expires-error').waitFor();
  check((await page.locator('#x-expires-error').textContent()).includes('already past'), 'an exclusion ending in the past is refused next to the field');
  check((await page.locator('#x-reason').inputValue()) === 'Service account reviewed by the security lead', 'the exclusion form keeps what was typed');
  await page.locator('#x-record').fill('no-such-record');
  await page.locator('#x-expires').fill('2099-01-01');
  await page.getByRole('button', { name: 'Add exclusion' }).click();
  await page.locator('#x-record-error').waitFor();
  check((await page.locator('#x-record-error').textContent()).includes('tests no such record'), 'an exclusion for a record the check does not test is refused next to the field');
  await page.locator('#x-record').fill(failing);
  await page.locator('#x-expires').fill('2099-01-01');
  await page.getByRole('button', { name: 'Add exclusion' }).click();
  await page.waitForLoadState();
  check((await page.locator('main').textContent()).includes('excluded by security@example.com'), 'the exclusion is listed on the check');
  await shot(page, '09b-check-detail');

  // Policy: edit (a new draft), approve, publish.
  await page.goto(`${BASE}/policies/${POLICY}/edit`);
  const source = await page.getByLabel(/^Text/).inputValue();
  await page.getByLabel(/^Text/).fill(`${source}\n\n## Browser test\n\nAdded by the browser test.\n`);
  await page.getByRole('button', { name: 'Save as a new draft' }).click();
  await page.waitForLoadState();
  check((await page.locator('.badge.draft').count()) === 1, 'saving the policy makes a draft version');
  await page.locator('#approve').click();
  await page.waitForLoadState();
  check(page.url().includes('done=approved'), 'the draft is approved');
  await page.locator('#publish').click();
  await page.waitForLoadState();
  check(page.url().includes('done=published'), 'the approved version is published');
  check(await page.getByRole('heading', { name: 'Browser test' }).isVisible(), 'the published policy shows its rendered Markdown');
  const version = (await page.locator('.badge.published').count()) === 1;
  check(version, 'the policy shows as published');
  await shot(page, '06-policy');

  for (const [path, name] of [['risks', '07-risks'], ['criteria', '08-criteria'], ['checks', '09-checks'], ['people', '10-people'], ['audit-log', '11-audit-log'], ['settings', '12-settings'], ['scope', '13-scope']]) {
    await page.goto(`${BASE}/${path}`);
    check((await page.locator('main h1').count()) >= 1, `the ${path} page renders`);
    await shot(page, name);
  }
  await page.goto(`${BASE}/risks`);
  check(await page.locator('#heatmap').isVisible(), 'the risk register shows its 5×5 heat map');

  // A risk added through the form: a bad value is refused next to its field, the rest kept.
  await page.goto(`${BASE}/risks`);
  await page.getByRole('link', { name: 'Add a risk' }).click();
  await page.locator('#f-id').fill('R-BROWSER');
  await page.locator('#f-title').fill('Laptop theft exposes customer data');
  await page.locator('#f-likelihood').fill('7');
  await page.locator('#f-impact').fill('4');
  await page.getByLabel('Treatment (required)', { exact: true }).selectOption('mitigate');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('#e-likelihood').waitFor();
  check((await page.locator('#e-likelihood').textContent()).includes('1 to 5'), 'an out-of-range likelihood is refused next to the field');
  check((await page.locator('#f-title').inputValue()) === 'Laptop theft exposes customer data', 'the other fields keep what was typed');
  await page.locator('#f-likelihood').fill('3');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/done=saved/);
  check((await page.locator('main').textContent()).includes('Laptop theft exposes customer data'), 'the new risk is saved and shown');

  // Settings: an administrator changes someone's role.
  await page.goto(`${BASE}/settings`);
  const viewerRow = page.locator('#users tr', { hasText: 'viewer@bluefin.test' });
  await viewerRow.locator('select').selectOption('control_owner');
  await viewerRow.getByRole('button', { name: 'Change role' }).click();
  await page.waitForLoadState();
  check((await page.locator('#users tr', { hasText: 'viewer@bluefin.test' }).textContent()).includes('Control owner'), 'an administrator changes a role in settings');

  // The observation window: a card on the dashboard, then the page with its strips, the
  // exceptions and the forecast; a management response recorded on one exception.
  await page.goto(`${BASE}/`);
  check(await page.locator('#window-card').isVisible(), 'the dashboard has an observation window card');
  check(/^\d+$/.test((await page.locator('#days-left').textContent()).trim()), 'the card says how many days are left');
  await page.locator('#window-card').getByRole('link', { name: 'Open the window' }).click();
  await page.waitForURL(/\/window$/);
  const predicted = (await page.locator('.page-head .badge').textContent()).trim();
  check(['unmodified', 'qualified', 'adverse'].includes(predicted), `the window shows the predicted opinion (${predicted})`);
  check((await page.locator('main').textContent()).includes("not an auditor's opinion"), 'the prediction is labelled as a prediction');
  check((await page.locator('svg.strip-runs').count()) > 10, 'periods and days are drawn as strips');
  check((await page.locator('svg.strip-runs rect.run-missed').count()) > 0, 'a missed period shows in its strip');
  const exRows = page.locator('#exceptions tbody tr');
  check((await exRows.count()) > 0, 'the window lists its exceptions');
  check((await page.locator('#forecast').count()) === 1, 'the window has a forecast');
  await shot(page, '17-window');
  const exId = (await exRows.first().locator('td').first().textContent()).trim();
  await exRows.first().locator('td').first().getByRole('link').click();
  await page.waitForURL(/\/window\/exceptions\//);
  await page.locator('#response-text').fill('   ');
  await page.getByRole('button', { name: 'Record the response' }).click();
  await page.locator('#response-text-error').waitFor();
  check((await page.locator('#response-text-error').textContent()).includes('needs text'), 'an empty response is refused next to the field');
  const responseText = 'Access removal was late because the offboarding ticket was filed after the last day; HR now files it a week ahead.';
  await page.locator('#response-text').fill(responseText);
  await page.getByRole('button', { name: 'Record the response' }).click();
  await page.waitForURL(/done=responded/);
  check((await page.locator('#response').textContent()).includes(responseText), 'the response is shown on the exception');
  await shot(page, '18-exception-response');
  await page.goto(`${BASE}/window`);
  check((await page.locator('#exceptions tbody tr', { hasText: exId }).textContent()).includes('HR now files it'), 'the response appears wherever the exception does');

  // On a phone-sized screen the layout still works.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${BASE}/`);
  await shot(page, '14-dashboard-phone');
  await page.setViewportSize({ width: 1280, height: 900 });

  // Employee: no second factor required for the role; accepts the exact published version.
  const emp = await signIn(browser, env('EMPLOYEE_EMAIL'), env('EMPLOYEE_PASSWORD'));
  page = emp.page;
  check(page.url().endsWith('/') || page.url().includes('/me'), 'the employee lands after sign-in');
  let res = await page.goto(`${BASE}/controls`);
  check(res.status() === 404, 'an employee cannot open the control list (404)');
  await page.goto(`${BASE}/me`);
  await page.locator('#to-accept summary').first().click();
  await shot(page, '15-my-policies');
  await page.locator(`#accept-${POLICY}`).click();
  await page.waitForLoadState();
  check(page.url().includes('done=accepted'), 'the employee accepted the policy');
  check((await page.locator(`#accept-${POLICY}`).count()) === 0, 'the accepted policy is no longer waiting');

  // Back as the administrator: the acceptance is listed on the policy.
  page = admin.page;
  await page.goto(`${BASE}/policies/${POLICY}`);
  check((await page.locator('#acceptances').textContent()).includes(env('EMPLOYEE_EMAIL')), 'the policy lists who accepted it');

  // A new hire: added in settings with their person record, signs in, and accepts the policy
  // just published from their own page, which shows their progress.
  const hire = `new.hire.${Date.now()}@bluefin.test`;
  await page.goto(`${BASE}/settings`);
  await page.locator('#new-email').fill(hire);
  await page.locator('#new-role').selectOption('employee');
  await page.locator('#new-name').fill('Noa Hale');
  await page.getByRole('button', { name: 'Add user' }).click();
  await page.waitForLoadState();
  const hirePassword = (await page.locator('#secret').textContent()).trim();
  check(hirePassword.length >= 16, 'adding the new hire gives a one-time password');
  await page.goto(`${BASE}/people`);
  check((await page.locator('main').textContent()).includes('Noa Hale'), "the new hire's person record was created with the account");
  const newcomer = await signIn(browser, hire, hirePassword);
  await newcomer.page.goto(`${BASE}/me`);
  const progress = await newcomer.page.locator('main').textContent();
  check(/\d+ of \d+ accepted/.test(progress), 'my policies shows how many are accepted');
  await newcomer.page.locator('details', { has: newcomer.page.locator(`#accept-${POLICY}`) }).locator('summary').click();
  await newcomer.page.locator(`#accept-${POLICY}`).click();
  await newcomer.page.waitForURL(/done=accepted/);
  check((await newcomer.page.locator(`#accept-${POLICY}`).count()) === 0, 'the new hire accepted the published policy');
  await page.goto(`${BASE}/policies/${POLICY}`);
  check((await page.locator('#acceptances').textContent()).includes(hire), "the policy lists the new hire's acceptance");

  // Auditor: read-only, cannot upload or open settings.
  const aud = await signIn(browser, env('AUDITOR_EMAIL'), env('AUDITOR_PASSWORD'));
  page = aud.page;
  await page.goto(`${BASE}/controls/${CONTROL}`);
  check((await page.locator('input[type=file]').count()) === 0, 'the auditor sees no upload form');
  check(await page.getByRole('heading', { name: 'Evidence', exact: true }).isVisible(), 'the auditor can read the control and its evidence');
  res = await page.goto(`${BASE}/settings`);
  check(res.status() === 404, 'the auditor cannot open settings (404)');
  check((await page.locator('nav.side a[href="/settings"]').count()) === 0, 'the auditor has no settings link');
  await page.goto(`${BASE}/controls/${CONTROL}`);
  const csrf = await page.locator('meta[name=csrf-token]').getAttribute('content');
  const upload = await page.request.post(`${BASE}/controls/${CONTROL}/evidence?csrf=${csrf}`, {
    multipart: { file: { name: 'x.txt', mimeType: 'text/plain', buffer: Buffer.from('x') }, title: 'auditor upload' },
  });
  check(upload.status() === 404, 'an upload posted by the auditor is refused (404)');
  await page.goto(`${BASE}/window`);
  check((await page.locator('#exceptions').count()) === 1, 'the auditor reads the window of the scope');
  await page.locator('#exceptions tbody tr').first().locator('td').first().getByRole('link').click();
  check((await page.locator('#response-text').count()) === 0, 'the auditor cannot respond to an exception');
  const respCsrf = await page.locator('meta[name=csrf-token]').getAttribute('content');
  const forgedResponse = await page.request.post(page.url(), { form: { csrf: respCsrf, response: 'auditor text' } });
  check(forgedResponse.status() === 404, 'a response posted by the auditor is refused (404)');
  await shot(page, '16-auditor-control');

  // The auditor's day. Signed in again with a code from the authenticator app, the auditor
  // lands on their engagement, opens a request, downloads its evidence and returns it; the
  // owner answers it; the auditor accepts it and draws a sample.
  {
    const ENGAGEMENT = env('ENGAGEMENT');
    const REQUEST = env('REQUEST');
    const day = await signIn(browser, env('AUDITOR_EMAIL'), env('AUDITOR_PASSWORD'), aud.secret);
    let p = day.page;
    check(p.url().endsWith(`/audit/${ENGAGEMENT}`), 'the auditor lands on their engagement');
    check((await p.locator('nav.side a[href="/audit"]').count()) === 1, 'the auditor has an Engagements link');
    check((await p.locator('#requests tbody tr').count()) === 1, 'the engagement lists its request');
    await shot(p, '17-engagement-home');
    await p.locator('#filter-status').selectOption('accepted');
    await p.getByRole('button', { name: 'Filter' }).click();
    await p.waitForURL(/status=accepted/);
    check(p.url().includes('status=accepted') && (await p.locator('#requests').count()) === 0, 'filtering by status leaves no accepted request');
    await p.locator('#filter-status').selectOption('submitted');
    await p.getByRole('button', { name: 'Filter' }).click();
    await p.waitForURL(/status=submitted/);
    await p.locator(`#requests a[href="/requests/${REQUEST}"]`).click();
    await p.waitForURL(new RegExp(`/requests/${REQUEST}$`));
    check(p.url().endsWith(`/requests/${REQUEST}`), 'the auditor opens the request');
    const evidenceText = await p.locator('#request-evidence').textContent();
    check(evidenceText.includes('outside the audit period') && evidenceText.includes('inside the audit period'),
      'evidence outside the audit period is shown as such, beside the evidence inside it');
    check((await p.locator('input[type=file]').count()) === 0, 'the auditor cannot upload evidence to a request');
    await p.goto(`${BASE}/evidence?q=old-access-review`);
    check((await p.locator('main table').textContent()).includes('outside the audit period'),
      'the evidence list marks an item outside the audit period for the auditor');
    await p.goBack();
    const [download] = await Promise.all([
      p.waitForEvent('download'),
      p.locator('#request-evidence a.button').first().click(),
    ]);
    const got = readFileSync(await download.path(), 'utf8');
    check(got.includes('Access review export for the browser walk'), 'the auditor downloads the evidence as it was uploaded');
    await p.locator('#return-comment').fill('The export has no reviewer sign-off; add the signed review.');
    await p.getByRole('button', { name: 'Return to the team' }).click();
    await p.waitForURL(/done=returned/);
    check(p.url().includes('done=returned'), 'the auditor returns the request with a comment');
    check((await p.locator('.page-head .badge').textContent()).trim() === 'returned', 'the request reads returned');
    check((await p.locator('#thread').textContent()).includes('no reviewer sign-off'), 'the comment is in the thread');
    await shot(p, '18-request-returned');

    // The owner answers: their requests list it; a new file is uploaded, linked and submitted.
    const owner = await signIn(browser, env('OWNER_EMAIL'), env('OWNER_PASSWORD'));
    const o = owner.page;
    await o.goto(`${BASE}/requests`);
    check((await o.locator(`#requests a[href="/requests/${REQUEST}"]`).count()) === 1, 'the owner finds the request among those for them');
    await o.locator(`#requests a[href="/requests/${REQUEST}"]`).click();
    await o.waitForURL(new RegExp(`/requests/${REQUEST}$`));
    check((await o.getByRole('button', { name: 'Accept' }).count()) === 0, 'the owner cannot accept their own answer');
    await o.locator('#upload-file').setInputFiles({ name: 'signed-review.txt', mimeType: 'text/plain', buffer: Buffer.from('Signed access review, Q3\n') });
    await o.locator('#upload-title').fill('Signed access review Q3');
    await o.getByRole('button', { name: 'Upload and link' }).click();
    await o.waitForURL(/done=/);
    check(o.url().includes('done=linked'), 'the owner uploads new evidence to the request');
    check((await o.locator('#request-evidence').textContent()).includes('Signed access review Q3'), 'the new evidence is linked to the request');
    await o.locator('#submit-comment').fill('Signed review attached.');
    await o.getByRole('button', { name: 'Submit to the auditor' }).click();
    await o.waitForURL(/done=submitted/);
    check(o.url().includes('done=submitted'), 'the owner submits the request');

    // The auditor accepts it.
    await p.goto(`${BASE}/requests/${REQUEST}`);
    check((await p.locator('#thread').textContent()).includes('Signed review attached.'), "the auditor reads the owner's answer");
    await p.getByRole('button', { name: 'Accept' }).click();
    await p.waitForURL(/done=accepted-request/);
    check((await p.locator('.page-head .badge').textContent()).trim() === 'accepted', 'the auditor accepts the request');
    const [pack] = await Promise.all([
      p.waitForEvent('download'),
      p.getByRole('link', { name: 'Download as a signed pack' }).click(),
    ]);
    const zip = readFileSync(await pack.path());
    check(zip.subarray(0, 2).toString() === 'PK' && zip.includes(Buffer.from('manifest.json')),
      `the auditor downloads the request as a signed pack (${pack.suggestedFilename()})`);

    // And draws a sample of merged changes with their own seed, then records a result.
    await p.goto(`${BASE}/audit/${ENGAGEMENT}`);
    check((await p.locator('#populations tbody tr').count()) === 1, 'the engagement lists its population');
    check((await p.getByRole('button', { name: 'Produce the population' }).count()) === 0, 'the auditor does not produce populations');
    await p.locator('#sample-control').selectOption(env('SAMPLE_CONTROL'));
    await p.locator('#sample-seed').fill('browser walk 2026');
    await p.getByRole('button', { name: 'Draw the sample' }).click();
    await p.waitForURL(/\/samples\/.*done=drawn/);
    check(p.url().includes('/samples/') && p.url().includes('done=drawn'), 'the auditor draws a sample');
    const items = await p.locator('#sample-items tbody tr').count();
    check(items > 0, `the sample lists its items (${items})`);
    const first = p.locator('#sample-items tbody tr').first();
    await first.locator('select').selectOption('exception');
    await first.locator('input[name=note]').fill('Merged without an approval.');
    await first.getByRole('button', { name: 'Record' }).click();
    await p.waitForURL(/done=result/);
    check((await p.locator('#sample-items tbody tr').first().textContent()).includes('exception'), 'the result is recorded on the item');
    await shot(p, '19-sample');
    await p.locator('#sample-items tbody tr').first().getByRole('link').first().click();
    await p.waitForURL(/\/items\//);
    check(p.url().includes('/items/'), "the item's packet opens");
    await shot(p, '20-sample-packet');
    await day.context.close();

    // The compliance lead imports the firm's list in the browser: a bad row is refused and
    // named, nothing stored; the corrected list is imported.
    page = admin.page;
    await page.goto(`${BASE}/audit/${ENGAGEMENT}`);
    const before = await page.locator('#requests tbody tr').count();
    await page.locator('#request-list-file').setInputFiles({ name: 'firm-irl.csv', mimeType: 'text/csv',
      buffer: Buffer.from('PBC #,Request,Due Date\nIRL-7,Change tickets of the period,2026-12-15\nIRL-8,Leavers,not a date\n') });
    await page.getByRole('button', { name: 'Import the list' }).click();
    await page.waitForSelector('#form-error');
    const refusal = await page.locator('#form-error').textContent();
    check(refusal.includes('firm-irl.csv') && refusal.includes('row 3'), `a bad row of the list is named (${refusal.trim()})`);
    await page.goto(`${BASE}/audit/${ENGAGEMENT}`);
    check((await page.locator('#requests tbody tr').count()) === before, 'nothing of the refused list is stored');
    await page.locator('#request-list-file').setInputFiles({ name: 'firm-irl.csv', mimeType: 'text/csv',
      buffer: Buffer.from('PBC #,Request,Due Date\nIRL-7,Change tickets of the period,2026-12-15\nIRL-8,Leavers,2026-12-20\n') });
    await page.getByRole('button', { name: 'Import the list' }).click();
    await page.waitForURL(/done=imported/);
    check((await page.locator('.flash.ok').textContent()).includes('2 request(s) added'), 'the corrected list is imported');
    check((await page.locator('#requests tbody tr').count()) === before + 2, 'its requests are listed');

    // Access reviews: the lead starts a campaign in the browser naming the owner as reviewer;
    // the owner keeps one account and revokes another from the inbox, one click each, and
    // changes a third on its page (a revoke without a reason is refused there, named).
    await page.goto(`${BASE}/access-reviews`);
    await page.locator('#campaign-name').fill('Browser review');
    await page.locator('#campaign-system').selectOption('okta');
    await page.locator('#campaign-reviewers').selectOption('named');
    await page.locator('#campaign-reviewer').fill(env('OWNER_EMAIL'));
    await page.locator('#campaign-due').fill('2099-12-31');
    await page.getByRole('button', { name: 'Start the campaign' }).click();
    await page.waitForURL(/done=started/);
    const campaignUrl = page.url().split('?')[0];
    check((await page.locator('.flash.ok').textContent()).includes('frozen'), 'a campaign is started in the browser and its list frozen');
    const frozen = await page.locator('#campaign-items tbody tr').count();
    check(frozen > 3, `the campaign lists its accounts (${frozen})`);
    await shot(page, '30-access-review-campaign');

    await o.goto(`${BASE}/access-reviews`);
    await o.getByRole('link', { name: 'Open your inbox' }).click();
    await o.waitForURL(/\/access-reviews\/inbox/);
    const undecided = () => o.locator('#inbox tbody tr', { has: o.getByRole('button', { name: 'Keep' }) });
    const waiting = await undecided().count();
    check(waiting === frozen, `the reviewer's inbox holds every account of the campaign (${waiting})`);
    await undecided().first().getByRole('button', { name: 'Keep' }).click();
    await o.waitForURL(/done=decided/);
    check((await o.locator('.flash.ok').textContent()).includes('Decision recorded'), 'one click keeps an account');
    check((await undecided().count()) === waiting - 1, 'the kept account no longer waits');
    const revokeRow = undecided().first();
    await revokeRow.locator('input[name=reason]').fill('No longer on the team');
    await revokeRow.getByRole('button', { name: 'Revoke' }).click();
    await o.waitForURL(/done=decided/);
    check((await o.locator('#inbox').textContent()).includes('No longer on the team'), 'a revocation is recorded with its reason');
    await undecided().first().getByRole('link', { name: 'Change…' }).click();
    await o.waitForURL(/\/access-reviews\/items\//);
    await o.locator('#item-decision').selectOption('revoke');
    await o.getByRole('button', { name: 'Record the decision' }).click();
    await o.waitForSelector('#form-error');
    check((await o.locator('#form-error').textContent()).includes('reason'), 'a revocation without a reason is refused, naming the reason');
    await o.locator('#item-decision').selectOption('change');
    await o.locator('#item-reason').fill('Needs read access only');
    await o.locator('#item-change').fill('read-only member');
    await o.getByRole('button', { name: 'Record the decision' }).click();
    await o.waitForURL(/done=decided/);
    check((await o.locator('main').textContent()).includes('read-only member'), 'a change is recorded with what the access becomes');
    await o.goto(`${BASE}/access-reviews/inbox`);
    await shot(o, '31-access-review-inbox');

    await page.goto(campaignUrl);
    check((await page.locator('main').textContent()).includes(`3 of ${frozen} decided`), 'the lead sees the campaign progress');
    check((await page.locator('#campaign-items').textContent()).includes('not yet seen'), 'removals wait to be seen in an import');
    await page.goto(`${BASE}/access-reviews`);
    check((await page.locator('#schedule').textContent()).includes('every 3 months'), 'the schedule shows the policy interval of each review');

    // Joiners, movers and leavers: the findings, and one person's timeline.
    await page.goto(`${BASE}/jml`);
    check((await page.locator('#jml tbody tr').count()) > 0, 'the reconciliation lists its findings');
    const personLink = page.locator('#jml tbody tr td:nth-child(2) a').first();
    if (await personLink.count()) {
      await personLink.click();
      await page.waitForURL(/\/jml\/people\//);
      check((await page.locator('#timeline tbody tr').count()) > 0, "a person's access timeline is listed");
      await shot(page, '32-access-timeline');
    }
    await owner.context.close();
  }

  // Frameworks and OSCAL: the program's seven documents, one downloaded as OSCAL JSON.
  await page.goto(`${BASE}/frameworks`);
  check((await page.locator('#oscal-documents tbody tr').count()) === 7, 'the seven OSCAL documents are offered');
  const [ssp] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'evident-ssp.json' }).click(),
  ]);
  const sspText = readFileSync(await ssp.path(), 'utf8');
  check(ssp.suggestedFilename() === 'evident-ssp.json' && JSON.parse(sspText)['system-security-plan'] !== undefined,
    'the system security plan downloads as OSCAL JSON');
  // Another framework imported from an OSCAL catalog in the browser, and one of ours mapped to it.
  const miniCatalog = { catalog: { uuid: '3f6c1d52-8a04-4e7b-9c21-5d0e47b36a19', metadata: { title: 'Mini framework', version: '1' },
    groups: [{ id: 'ac', title: 'Access Control', controls: [{ id: 'ac-1', title: 'Account reviews' }, { id: 'ac-2', title: 'Least privilege' }] }] } };
  await page.locator('#fw-id').fill('mini');
  await page.locator('#fw-catalog').setInputFiles({ name: 'mini.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(miniCatalog)) });
  await page.getByRole('button', { name: 'Import' }).click();
  await page.waitForURL(/\/frameworks\/mini\?done=imported/);
  check((await page.locator('#framework-controls tbody tr').count()) === 2, 'the imported framework lists its controls');
  await page.locator('#map-control').fill('ac-1');
  await page.locator('#map-ours').selectOption({ index: 0 });
  const ours = await page.locator('#map-ours').inputValue();
  await page.getByRole('button', { name: 'Map', exact: true }).click();
  await page.waitForURL(/done=mapped/);
  check((await page.locator('#framework-controls tbody tr').first().textContent()).includes(ours), 'one of ours is mapped to their control');
  await shot(page, '33-frameworks');

  // The system description: statements with their sources one click away, a narrative
  // rewritten in place and shown as drift, approved again, the assertion signed, the Word file.
  await page.goto(`${BASE}/description`);
  check((await page.locator('#part-services').textContent()).includes('written by management'),
    "the services narrative reads as management's own");
  const assetSource = page.locator('#part-data a[href^="/assets/"]').first();
  const assetHref = await assetSource.getAttribute('href');
  await assetSource.click();
  await page.waitForURL((u) => u.pathname === decodeURIComponent(assetHref) || u.pathname === assetHref);
  check((await page.locator('main').textContent()).includes('data_store'), "a statement's source opens the record it came from");
  await page.goto(`${BASE}/description`);
  await page.locator('#narrative-services').fill('We run product analytics for 400 retailers (browser test).');
  await page.locator('#part-services').getByRole('button', { name: /Save as version/ }).click();
  await page.waitForURL(/done=narrative-2/);
  check((await page.locator('#description-drift').textContent()).includes('400 retailers'),
    'the rewritten narrative shows as drift since the approved version');
  check((await page.locator('#signer-name').count()) === 0, 'the assertion cannot be signed over a drifted description');
  await page.getByRole('button', { name: 'Approve this description' }).click();
  await page.waitForURL(/done=description-2/);
  await page.locator('#signer-name').fill('Ana Diaz');
  await page.locator('#signer-title').fill('Chief Executive Officer');
  await page.getByRole('button', { name: 'Sign the assertion' }).click();
  await page.waitForURL(/done=signed/);
  check((await page.locator('#assertion').textContent()).includes('signed by Ana Diaz, Chief Executive Officer'),
    "management's assertion names who signed it");
  const [docx] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Word (DOCX)' }).click(),
  ]);
  check(docx.suggestedFilename() === 'evident-description.docx' && readFileSync(await docx.path()).subarray(0, 2).toString() === 'PK',
    'the description downloads as a Word document');
  await shot(page, '34-description');

  // Every main page, as the administrator sees it: no serious or critical accessibility
  // violation, nothing wider than a phone's screen, and a screenshot of each at desktop and
  // phone size.
  const mainPages = [
    ['/', 'dashboard'], ['/gaps', 'gaps'], ['/scope', 'scope'], ['/description', 'description'],
    ['/criteria', 'criteria'], ['/frameworks', 'frameworks'], ['/window', 'window'],
    ['/audit', 'engagements'], ['/requests', 'requests'], ['/access-reviews', 'access-reviews'],
    ['/controls', 'controls'], [`/controls/${CONTROL}`, 'control'], ['/evidence', 'evidence'],
    ['/policies', 'policies'], [`/policies/${POLICY}`, 'policy'], ['/checks', 'checks'], ['/jobs', 'jobs'], ['/tasks', 'tasks'],
    ['/people', 'people'], ['/training', 'training'], ['/background-checks', 'background-checks'],
    ['/risks', 'risks'], ['/vendors', 'vendors'], ['/assets', 'assets'], ['/events', 'events'],
    ['/audit-log', 'audit-log'], ['/settings', 'settings'], ['/me', 'me'],
  ];
  for (const [path, name] of mainPages) {
    const res = await page.goto(`${BASE}${path}`);
    check(res.status() === 200, `${path} opens`);
    check(!(await page.locator('main').textContent()).includes('evident '), `${path} shows no command line`);
    await accessible(page, path);
    await shot(page, `desk-${name}`);
  }
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [path, name] of mainPages) {
    await page.goto(`${BASE}${path}`);
    await shot(page, `phone-${name}`);
    const wide = await overflowing(page);
    check(wide === '', `${path} fits a phone's screen${wide ? ` (wider: ${wide})` : ''}`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  for (const [who, p, path] of [['employee', emp.page, '/me'], ['auditor', aud.page, '/audit']]) {
    await p.goto(`${BASE}${path}`);
    await accessible(p, `${path} as the ${who}`);
  }

  // A form posted without the CSRF token is refused.
  const forged = await admin.page.request.post(`${BASE}/policies/${POLICY}/approve`, { form: { csrf: 'forged' } });
  check(forged.status() === 403, 'a form without the session CSRF token is refused (403)');

  // Signing out everywhere ends the employee's other sessions too.
  const second = await signIn(browser, env('EMPLOYEE_EMAIL'), env('EMPLOYEE_PASSWORD'));
  await emp.page.goto(`${BASE}/me`);
  emp.page.once('dialog', (d) => d.accept());
  await emp.page.getByRole('button', { name: 'Sign out everywhere' }).click();
  await emp.page.waitForURL(/\/login/);
  await second.page.goto(`${BASE}/me`);
  check(second.page.url().includes('/login'), "signing out everywhere ends the person's other sessions");

  // Sign out ends the session.
  page = admin.page;
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForLoadState();
  await page.goto(`${BASE}/`);
  check(page.url().includes('/login'), 'after signing out the dashboard asks to sign in again');
  writeFileSync(join(SHOTS, 'RESULT'), 'pass\n');
  console.log('all browser checks passed');
} finally {
  await browser.close();
}
