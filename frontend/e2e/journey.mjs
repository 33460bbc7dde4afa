// The whole cutover journey in headless Chromium, against a running local
// stack. Exits non-zero on any failure.
//
//   SITE_URL     the site (API at SITE_URL/api), e.g. http://127.0.0.1:8080
//   OPS_TOKEN    an ops JWT
//   MAIL_URL     the emulator's sent mail (…/kumo/ses/v2/sent-emails)
//   ARTIFACTS    directory for a numbered full-page screenshot of every step (default: ./e2e-artifacts)
//   SCREENSHOTS  optional: directory for the README's stable screenshots
//   CHROMIUM     the browser (default /usr/bin/chromium)
//
// Steps: ops create a migration (API); the customer opens the invite, fills
// the checklist, uploads two files at once, edits a column's mapping and
// saves, submits; reviews the workbook (ticks every spot check, marks every
// section, sees the 409 list of what is open) and requests sign-off; the
// coordinator opens the emailed link and approves (a used and a forged link
// show their pages); the customer uploads the final extract under new file
// names, one of which lost a mapped column (Bedrooms), sets go-live ~60 s
// ahead, sees which signed-off file each final file replaces and confirms
// it; the pre-flight holds go-live and the customer's page shows why; the
// coordinator opens the fresh re-approval link, sees the differences and
// approves; the customer sees the preview "this is what will go live" while
// scheduled, then Live with the final report; ops see it listed as live
// and open its detail, with its mail, and re-issue the invite link. Then a
// resumable upload: a second customer starts a four-part file, the page is
// reloaded while parts 3 and 4 are still on their way, the same file is
// picked again, and only parts 3 and 4 are sent again (counted per part
// number from the page's requests).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const SITE_URL = required('SITE_URL').replace(/\/+$/, '');
const OPS_TOKEN = required('OPS_TOKEN');
const MAIL_URL = required('MAIL_URL');
const ARTIFACTS = process.env.ARTIFACTS || join(process.cwd(), 'e2e-artifacts');
const SCREENSHOTS = process.env.SCREENSHOTS || '';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const STEP_TIMEOUT = 30_000;
const MIGRATION_TIMEOUT = 180_000;

function required(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`journey: set ${name}`);
    process.exit(2);
  }
  return v;
}

const started = Date.now();
const secs = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
let shots = 0;
const pageErrors = [];
// The site's own files a page asked for and did not get (a missing icon
// shows as a console error on every page).
const siteMissing = new Set();

function pass(what) {
  console.log(`ok   ${what} (${secs()})`);
}

async function snap(page, name, readmeName) {
  shots += 1;
  const file = join(ARTIFACTS, `${String(shots).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  if (SCREENSHOTS && readmeName) await page.screenshot({ path: join(SCREENSHOTS, `${readmeName}.png`), fullPage: true });
}

function check(cond, message) {
  if (!cond) throw new Error(message);
}

/** Every visible control has an accessible name (label, aria-label(ledby), or text for buttons). */
async function assertLabelled(page, where) {
  const unnamed = await page.evaluate(() => {
    const named = (el) => {
      if (el.getAttribute('aria-label')?.trim()) return true;
      const by = el.getAttribute('aria-labelledby');
      if (by && by.split(/\s+/).some((id) => document.getElementById(id)?.textContent?.trim())) return true;
      if (el.labels && [...el.labels].some((l) => l.textContent?.trim())) return true;
      if (el.tagName === 'BUTTON' && el.textContent?.trim()) return true;
      return false;
    };
    return [...document.querySelectorAll('input, select, textarea, button')]
      .filter((el) => el.type !== 'hidden' && el.offsetParent !== null)
      .filter((el) => !named(el))
      .map((el) => el.outerHTML.slice(0, 120));
  });
  check(unnamed.length === 0, `${where}: controls without an accessible name: ${unnamed.join(' | ')}`);
}

async function api(method, path, body, token = OPS_TOKEN) {
  const res = await fetch(`${SITE_URL}/api${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

/** The newest sign-off link mailed to `to`, waiting for it to arrive. */
async function signoffLink(to, after = new Set()) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const res = await fetch(MAIL_URL);
    const data = await res.json();
    const list = data.SentEmails ?? data.sentEmails ?? data.emails ?? [];
    const links = [];
    for (const mail of list) {
      const text = JSON.stringify(mail);
      if (!text.includes(to)) continue;
      const m = /signoff\.html#t=([A-Za-z0-9._~-]+)/.exec(text);
      if (m && !after.has(m[1])) links.push(m[1]);
    }
    if (links.length) return links[links.length - 1];
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`no sign-off email to ${to} arrived at ${MAIL_URL}`);
}

/** The body of the newest mail to `to` whose subject starts with `subject`, waiting for it to arrive. */
async function mailTo(to, subject) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const data = await (await fetch(MAIL_URL)).json();
    const list = (data.SentEmails ?? data.sentEmails ?? []).filter(
      (m) => (m.Destination?.ToAddresses ?? []).includes(to) && String(m.Subject ?? '').startsWith(subject),
    );
    if (list.length) return String(list[list.length - 1].Body ?? '');
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no mail "${subject}" to ${to} arrived at ${MAIL_URL}`);
}

/** The invite link in a mail body, opened on the site under test. */
function inviteFrom(body) {
  const m = /\/upload\.html(#m=[A-Za-z0-9-]+&k=[A-Za-z0-9_-]+)/.exec(body);
  if (!m) throw new Error(`no invite link in the mail: ${body.slice(0, 200)}`);
  return `${SITE_URL}/upload.html${m[1]}`;
}

async function until(cond, what, timeout = STEP_TIMEOUT) {
  const deadline = Date.now() + timeout;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function csv(rows) {
  return Buffer.from(rows.map((r) => r.join(',')).join('\n') + '\n');
}

const CONTACTS = [
  ['Id', 'First Name', 'Last Name', 'Email', 'Phone', 'Remarks'],
  ['1', 'Ada', 'Lovelace', 'ada@example.com', '+44 20 7946 0001', 'Prefers email'],
  ['2', 'Alan', 'Turing', 'alan@example.com', '+44 20 7946 0002', 'Call after 5pm'],
  ['3', 'Grace', 'Hopper', 'grace@example.com', '+44 20 7946 0003', ''],
];
const PROPERTIES = [
  ['Property ID', 'Address 1', 'Town', 'Postcode', 'Property Type', 'Bedrooms', 'Asking Price'],
  ['P1', '1 High Street', 'Bristol', 'BS1 4DJ', 'Detached', '3', '250000'],
  ['P2', '2 Low Road', 'Bath', 'BA1 1AA', 'Flat', '2', '180000'],
];
// The final extract: Alan's email changed and a contact added since the test.
const FINAL_CONTACTS = [
  CONTACTS[0],
  CONTACTS[1],
  ['2', 'Alan', 'Turing', 'alan.turing@example.com', '+44 20 7946 0002', 'Call after 5pm'],
  CONTACTS[3],
  ['4', 'Katherine', 'Johnson', 'katherine@example.com', '+44 20 7946 0004', ''],
];
// The final properties export lost the mapped Bedrooms column: the
// pre-flight holds go-live until the coordinator re-approves.
const FINAL_PROPERTIES = PROPERTIES.map((r) => r.filter((_, i) => i !== 5));
// How far ahead the customer sets go-live: room for the hold and the
// coordinator's re-approval before it.
const GO_LIVE_AHEAD = 60_000;

async function waitHeading(page, name, timeout = STEP_TIMEOUT) {
  await page.getByRole('heading', { name }).first().waitFor({ state: 'visible', timeout });
}

async function main() {
  mkdirSync(ARTIFACTS, { recursive: true });
  if (SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });

  // ------------------------------------------------------------------ ops: create
  const tenantId = `e2e-${Date.now().toString(36)}`;
  const coordinator = `coordinator-${tenantId}@example.test`;
  const created = await api('POST', '/ops/migrations', {
    tenantId,
    customerName: 'Harbour Lettings',
    customerEmail: `it-${tenantId}@example.test`,
    coordinatorEmail: coordinator,
  });
  const migrationId = created.migration.id;
  check(created.inviteUrl.includes('/upload.html#m='), `unexpected invite URL ${created.inviteUrl}`);
  check(created.inviteMailed === true, 'the invite was mailed');
  // The customer opens the link from their invite mail. It names the
  // stack's configured site; open it on the site we test.
  const invite = inviteFrom(await mailTo(`it-${tenantId}@example.test`, 'Your data migration: your invite link'));
  check(invite.endsWith(created.inviteUrl.slice(created.inviteUrl.indexOf('#'))), 'the mailed invite is the one ops were shown');
  pass(`ops created ${migrationId} for tenant ${tenantId}; the invite was mailed`);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const watch = (page, who) => {
    page.setDefaultTimeout(STEP_TIMEOUT);
    page.on('pageerror', (err) => pageErrors.push(`${who}: ${err.message}`));
    page.on('response', (res) => {
      const url = res.url();
      if (res.status() === 404 && url.startsWith(`${SITE_URL}/`) && !url.startsWith(`${SITE_URL}/api/`)) siteMissing.add(url.slice(SITE_URL.length));
    });
  };
  try {
    // The customer is in India: the go-live mail shows their time and UTC.
    const customerCtx = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Asia/Kolkata' });
    const page = await customerCtx.newPage();
    watch(page, 'customer');

    // ---------------------------------------------------------------- checklist
    await page.goto(invite);
    await waitHeading(page, 'Your record counts');
    check(!page.url().includes('k='), 'the customer key is taken out of the address bar');
    // The skip link moves focus to the content without changing the fragment (no reload).
    await page.getByRole('link', { name: 'Skip to content' }).focus();
    await page.keyboard.press('Enter');
    check((await page.evaluate(() => document.activeElement?.id)) === 'main', 'the skip link focuses the main content');
    check(!page.url().includes('#'), 'the skip link leaves the address bar alone');
    await page.getByText('Status: Waiting for your test extract').waitFor();
    await page.getByText('Status: Waiting for your test extract').waitFor();
    await assertLabelled(page, 'customer page');
    await snap(page, 'customer-start');
    await page.getByLabel('Contacts in your old CRM').fill('3');
    await page.getByLabel('Properties in your old CRM').fill('2');
    await page.getByRole('button', { name: 'Save counts' }).click();
    await page.getByText(/Counts saved at/).waitFor();
    pass('checklist: 3 contacts, 2 properties saved');

    // ---------------------------------------------------------------- upload two files at once
    await page.locator('input[type=file]').first().setInputFiles([
      { name: 'contacts.csv', mimeType: 'text/csv', buffer: csv(CONTACTS) },
      { name: 'properties.csv', mimeType: 'text/csv', buffer: csv(PROPERTIES) },
    ]);
    const rows = page.locator('li.upload');
    await rows.nth(1).waitFor();
    check((await rows.count()) === 2, 'two upload rows, one per file');
    for (const name of ['contacts.csv', 'properties.csv']) {
      const row = page.locator(`li.upload[data-file-name="${name}"]`);
      await row.locator('progress').waitFor();
      await row.getByText('Uploaded').waitFor();
      check((await row.locator('progress').evaluate((p) => p.value)) === 100, `${name}: progress at 100%`);
    }
    await page.getByRole('list', { name: 'Test extract files received' }).getByText('properties.csv').waitFor();
    await snap(page, 'customer-uploaded');
    pass('uploaded contacts.csv and properties.csv together, progress 100%');

    // ---------------------------------------------------------------- mapping
    const remarks = page.getByRole('combobox', { name: 'Remarks in contacts.csv migrates to' });
    await remarks.waitFor();
    check((await remarks.inputValue()) === '', 'Remarks is not mapped by the suggestion');
    const propertiesEntity = page.getByRole('combobox', { name: 'Its records are (properties.csv)', exact: true });
    check((await propertiesEntity.inputValue()) === 'property', `the suggestion says properties.csv holds properties, got ${await propertiesEntity.inputValue()}`);
    check((await page.getByRole('combobox', { name: 'Email in contacts.csv migrates to' }).inputValue()) === 'emails', 'Email maps to emails');
    await remarks.selectOption('notes');
    await page.getByText('You have unsaved changes.').waitFor();
    await page.getByRole('button', { name: 'Save mapping' }).click();
    await page.getByText(/Mapping saved at/).waitFor();
    await assertLabelled(page, 'mapping editor');
    await page.locator('section.step', { hasText: 'Check the mapping' }).scrollIntoViewIfNeeded();
    await snap(page, 'customer-mapping', 'customer-mapping');
    pass('mapping: Remarks → notes saved');

    // ---------------------------------------------------------------- submit, test migration
    await page.getByRole('button', { name: 'Start the test migration' }).click();
    await waitHeading(page, /The test migration is running|Review the test migration/);
    await snap(page, 'customer-test-running');
    await waitHeading(page, 'Review the test migration', MIGRATION_TIMEOUT);
    await page.locator('.workbook').waitFor();
    const testPhase = page.locator('#timeline li.phase', { has: page.locator('.phase-title strong', { hasText: /^Test migration$/ }) });
    await testPhase.locator('.phase-state', { hasText: 'Done' }).waitFor();
    check(await testPhase.evaluate((li) => li.classList.contains('phase-done')), 'the timeline shows the test migration as done');
    pass('test migration done: workbook shown, timeline says Done');

    // ---------------------------------------------------------------- browse the TEST records
    const browse = page.getByRole('region', { name: 'Your records in the TEST environment' });
    await browse.locator('article.test-record').first().waitFor();
    const listed = await browse.locator('article.test-record').count();
    check(listed === 5, `the TEST records list the 5 records migrated (3 contacts, 2 properties), got ${listed}`);
    await browse.getByLabel('Search by name, e-mail or source id').fill('alan@example.com');
    await browse.getByRole('button', { name: 'Search', exact: true }).click();
    await browse.locator('.test-records-status', { hasText: 'Records matching “alan@example.com”' }).waitFor();
    const found = browse.locator('article.test-record');
    check((await found.count()) === 1, 'the search by e-mail finds one record');
    const alan = found.first();
    check((await alan.locator('.source-row h5').textContent()) === 'In your file: contacts.csv, line 3', 'the record sits beside line 3 of contacts.csv');
    const alanCells = await alan.locator('.source-row dd').allTextContents();
    check(alanCells.join('|') === CONTACTS[2].join('|'), `the source row is the uploaded row, got ${alanCells.join('|')}`);
    check((await alan.locator('.test-fields').textContent()).includes('Turing'), 'the TEST record shows the typed fields');
    await browse.scrollIntoViewIfNeeded();
    shots += 1;
    await browse.screenshot({ path: join(ARTIFACTS, `${String(shots).padStart(2, '0')}-customer-test-records.png`) });
    if (SCREENSHOTS) await browse.screenshot({ path: join(SCREENSHOTS, 'customer-test-records.png') });
    await browse.getByLabel('Search by name, e-mail or source id').fill('nobody-here');
    await browse.getByRole('button', { name: 'Search', exact: true }).click();
    await browse.getByText('No record of round 1 matches “nobody-here”.', { exact: false }).waitFor();
    pass('TEST records: 5 listed; alan@example.com found beside line 3 of contacts.csv; an unknown name says so');

    // ---------------------------------------------------------------- workbook review
    const recon = page.getByRole('region', { name: 'Reconciliation per kind of record' });
    await recon.getByText('Match').first().waitFor();
    check((await recon.getByText('Match').count()) === 2, 'both kinds of record reconcile (Match)');
    const boxes = page.getByRole('checkbox', { name: /I checked spot check \d+: it is right/ });
    const spots = await boxes.count();
    check(spots > 0, 'the workbook has spot checks');
    for (let i = 0; i < spots; i++) {
      const box = page.getByRole('checkbox', { name: `I checked spot check ${i + 1}: it is right` });
      await box.check();
      await page.waitForFunction((n) => {
        const el = [...document.querySelectorAll('input[data-spot]')].find((x) => x.dataset.spot === String(n));
        return el && el.checked && el.dataset.recorded === 'true';
      }, i);
    }
    for (const section of ['reconciliation', 'issues and rejected rows', 'fill rates']) {
      await page.getByRole('button', { name: `Mark ${section} as reviewed` }).click();
      await page.locator(`.wb-section .mark`).filter({ has: page.getByRole('button', { name: `Mark ${section} as reviewed`, disabled: true }) }).getByText('✓ Reviewed').waitFor();
    }
    // One part left open: requesting sign-off lists it (409).
    await page.getByRole('button', { name: 'Request sign-off' }).click();
    const refusal = page.locator('.request [role=alert]');
    await refusal.getByText('Columns that will not migrate').waitFor();
    check((await refusal.textContent()).includes('still open'), 'the 409 says what is still open');
    await snap(page, 'customer-signoff-refused');
    pass(`workbook: ${spots} spot checks ticked; the 409 lists the open part`);

    await page.getByRole('button', { name: 'Mark columns that will not migrate as reviewed' }).click();
    await page.getByText('Every part is reviewed or waived: you can request sign-off.').waitFor();
    await snap(page, 'customer-workbook', 'customer-workbook');
    await page.getByRole('button', { name: 'Request sign-off' }).click();
    await waitHeading(page, 'Waiting for sign-off', MIGRATION_TIMEOUT);
    await snap(page, 'customer-waiting-signoff');
    pass('sign-off requested');

    // ---------------------------------------------------------------- coordinator
    const token = await signoffLink(coordinator);
    const coordCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const coord = await coordCtx.newPage();
    watch(coord, 'coordinator');
    await coord.goto(`${SITE_URL}/signoff.html#t=${token}`);
    await waitHeading(coord, 'What you are approving');
    await coord.getByRole('region', { name: 'Per kind of record' }).getByText('Match').first().waitFor();
    await coord.getByRole('region', { name: 'The customer’s marks on the workbook' }).getByText('Columns that will not migrate').waitFor();
    await assertLabelled(coord, 'sign-off page');
    await snap(coord, 'signoff', 'signoff');
    await coord.getByLabel('Comment').fill('Counts match our CRM. Approved for go-live.');
    await coord.getByRole('button', { name: 'Approve' }).click();
    await waitHeading(coord, 'Approved');
    await snap(coord, 'signoff-approved');
    pass('coordinator approved from the emailed link');

    const used = await coordCtx.newPage();
    watch(used, 'coordinator (used link)');
    await used.goto(`${SITE_URL}/signoff.html#t=${token}`);
    await waitHeading(used, 'This sign-off was already decided');
    await snap(used, 'signoff-used-link');
    await used.goto(`${SITE_URL}/signoff.html#t=${token.slice(0, -4)}AAAA`);
    await waitHeading(used, 'This sign-off link is not valid');
    await snap(used, 'signoff-forged-link');
    pass('a used link and a forged link show their own pages');

    // ---------------------------------------------------------------- final extract: matched to the signed-off files
    await waitHeading(page, 'Final extract and go-live', MIGRATION_TIMEOUT);
    await page.getByText(/changed in your old CRM after you take the final extract is not migrated/).waitFor();
    // Both final files come under new names; the properties export lost a
    // mapped column (Bedrooms), which the pre-flight must hold go-live for.
    await page.locator('input[type=file]').first().setInputFiles([
      { name: 'contacts-final.csv', mimeType: 'text/csv', buffer: csv(FINAL_CONTACTS) },
      { name: 'properties-final.csv', mimeType: 'text/csv', buffer: csv(FINAL_PROPERTIES) },
    ]);
    const finalList = page.getByRole('list', { name: 'Final extract files received' });
    await finalList.getByText('contacts-final.csv').waitFor();
    await finalList.getByText('properties-final.csv').waitFor();
    // Go-live far enough ahead for the hold, the coordinator's re-approval
    // and the preview while scheduled to happen before it.
    const goLive = await page.evaluate((ahead) => {
      const d = new Date(Date.now() + ahead);
      const p = (n) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    }, GO_LIVE_AHEAD);
    await page.getByLabel('Go-live date and time').fill(goLive);
    await assertLabelled(page, 'final extract form');
    await snap(page, 'customer-final-form');
    // The first press shows which signed-off file each final file replaces;
    // the properties file no longer has every column, so it asks to check.
    await page.getByRole('button', { name: 'Schedule the final migration' }).click();
    const matchTable = page.getByRole('table', { name: 'Which signed-off file each final file replaces' });
    await matchTable.waitFor();
    await page.getByText('Check which signed-off file each final file replaces, then schedule again.').waitFor();
    const replaces = async (file) => page.getByRole('combobox', { name: `Signed-off file that ${file} replaces` }).evaluate((s) => s.selectedOptions[0]?.textContent ?? '');
    const contactsMatch = await replaces('contacts-final.csv');
    check(contactsMatch === 'contacts.csv (Contacts), same columns', `contacts-final.csv replaces contacts.csv (same columns), got "${contactsMatch}"`);
    const propertiesMatch = await replaces('properties-final.csv');
    check(propertiesMatch.startsWith('properties.csv (Properties)'), `properties-final.csv replaces properties.csv, got "${propertiesMatch}"`);
    await assertLabelled(page, 'final files matched');
    await matchTable.scrollIntoViewIfNeeded();
    await snap(page, 'customer-final-match', 'customer-final-match');
    pass(`final files matched: contacts-final.csv → ${contactsMatch}; properties-final.csv → ${propertiesMatch}`);

    // ---------------------------------------------------------------- confirmed; the pre-flight holds go-live
    await page.getByRole('button', { name: 'Schedule the final migration' }).click();
    await waitHeading(page, /Go-live is on hold|Final migration scheduled|The final migration is running|Your migration is live/);
    await snap(page, 'customer-scheduled');
    const goLiveMail = await mailTo(`it-${tenantId}@example.test`, 'Your go-live is scheduled');
    const [date, time] = goLive.split('T');
    const local = new Date(`${date}T${time}+05:30`);
    const utc = `${local.getUTCHours().toString().padStart(2, '0')}:${local.getUTCMinutes().toString().padStart(2, '0')} UTC`;
    // Chromium's ICU names the zone by its older alias, Asia/Calcutta.
    const inZone = new RegExp(`, ${time.slice(0, 5)} \\(Asia/(Kolkata|Calcutta)\\)`);
    check(inZone.test(goLiveMail) && goLiveMail.includes(utc), `the go-live mail shows ${time.slice(0, 5)} in Asia/Kolkata and ${utc}: ${goLiveMail}`);
    check(goLiveMail.includes('Freeze your old CRM now'), 'the go-live mail has the freeze notice');
    pass(`final extract confirmed; go-live at ${goLive} (Asia/Kolkata), mailed with its UTC time`);

    await waitHeading(page, 'Go-live is on hold', MIGRATION_TIMEOUT);
    const hold = page.locator('.notice[role=alert]', { has: page.getByRole('heading', { name: 'Go-live is on hold' }) });
    await hold.getByText(/Bedrooms/).first().waitFor();
    await page.getByText('Status: Go-live on hold: the final extract differs from what was signed off').waitFor();
    const preview = page.locator('.preflight');
    await preview.getByRole('heading', { name: 'This is what will go live' }).waitFor();
    const missingCols = preview.getByRole('table', { name: 'Mapped columns missing from the final extract' });
    await missingCols.getByRole('row', { name: /Bedrooms/ }).waitFor();
    // The timeline names the signed-off files the final files replace, not
    // their ids (in the order the files were confirmed, which may vary).
    const matched = page.locator('#timeline').getByText(/^Final files matched: /);
    await matched.waitFor();
    const matchedText = (await matched.textContent()) ?? '';
    check(matchedText.includes('contacts-final.csv -> contacts.csv (contact, confirmed)') && matchedText.includes('properties-final.csv -> properties.csv (property, confirmed)'),
      `the timeline's matches: ${matchedText}`);
    await assertLabelled(page, 'held go-live');
    await snap(page, 'customer-held', 'customer-held');
    pass('pre-flight held go-live: the customer sees the lost Bedrooms column');

    // ---------------------------------------------------------------- coordinator re-approves
    const reToken = await signoffLink(coordinator, new Set([token]));
    await coord.goto(`${SITE_URL}/signoff.html#t=${reToken}`);
    await waitHeading(coord, 'Go-live is held');
    await coord.locator('[data-part=breaches]').getByText(/Bedrooms/).first().waitFor();
    await coord.getByRole('table', { name: 'Mapped columns missing from the final extract' }).getByRole('row', { name: /Bedrooms/ }).waitFor();
    await assertLabelled(coord, 're-approval page');
    await snap(coord, 'signoff-reapproval', 'signoff-reapproval');
    await coord.getByLabel('Comment').fill('Bedrooms are re-entered by hand after go-live. Approved.');
    await coord.getByRole('button', { name: 'Approve' }).click();
    await waitHeading(coord, 'Go-live approved');
    await snap(coord, 'signoff-reapproved');
    pass('coordinator re-approved the held go-live from the fresh link');

    // ---------------------------------------------------------------- the preview while scheduled
    await waitHeading(page, 'Final migration scheduled', MIGRATION_TIMEOUT);
    await preview.getByRole('heading', { name: 'This is what will go live' }).waitFor();
    const perEntity = preview.getByRole('table', { name: /^Per kind of record/ });
    const previewCells = await perEntity.getByRole('row', { name: /Contacts/ }).locator('td').allTextContents();
    // Rows (test), Migrated, Rejected (test), Warnings (test), Reconciliation, Added, Removed, Changed
    check(previewCells[0] === '4 (3)' && previewCells[5] === '1' && previewCells[6] === '0' && previewCells[7] === '1', `the preview's contacts: 4 rows (3 in the test), 1 added, 0 removed, 1 changed; got ${previewCells.join('|')}`);
    await preview.getByRole('table', { name: 'Fields whose fill rate changes' }).getByRole('row', { name: /Bedrooms|bedrooms/ }).waitFor();
    await assertLabelled(page, 'scheduled with the preview');
    await preview.scrollIntoViewIfNeeded();
    await snap(page, 'customer-preflight', 'customer-preflight');
    pass(`preview before go-live: contacts ${previewCells.join('|')}`);

    await waitHeading(page, 'Your migration is live', MIGRATION_TIMEOUT);
    await page.getByText('Status: Live').waitFor();
    const changes = page.getByRole('region', { name: 'Changes per kind of record' });
    await changes.waitFor();
    const contactRow = changes.getByRole('row', { name: /Contacts/ });
    const cells = await contactRow.locator('td').allTextContents();
    // In the test, Live, Added, Removed, Changed, Unchanged
    check(cells.join('|') === '3|4|1|0|1|2', `contacts delta is 3|4|1|0|1|2, got ${cells.join('|')}`);
    await page.getByRole('region', { name: 'Examples: Contacts' }).getByText('alan.turing@example.com').waitFor();
    await snap(page, 'customer-final', 'customer-final');
    await page.setViewportSize({ width: 390, height: 844 });
    await snap(page, 'customer-final-phone');
    pass('live: final report with the delta (1 added, 1 changed contact)');

    // ---------------------------------------------------------------- ops console
    const opsCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const ops = await opsCtx.newPage();
    watch(ops, 'ops');
    await ops.goto(`${SITE_URL}/ops.html#token=${OPS_TOKEN}`);
    await ops.getByRole('heading', { name: 'All migrations' }).waitFor();
    check(!ops.url().includes('token='), 'the token is taken out of the address bar');
    const row = ops.locator(`tr[data-migration="${migrationId}"]`);
    await row.waitFor();
    check((await row.getAttribute('data-status')) === 'live', 'ops list shows the migration as live');
    await assertLabelled(ops, 'ops list');
    await snap(ops, 'ops', 'ops');
    await ops.getByLabel('Filter').fill(tenantId);
    await ops.getByLabel('Status').selectOption('live');
    await row.waitFor();
    check((await ops.locator('tr[data-migration]').count()) === 1, 'filtering by tenant and status leaves this migration');
    await snap(ops, 'ops-filtered');
    await row.getByRole('link', { name: 'Harbour Lettings' }).click();
    await ops.getByRole('heading', { name: /Harbour Lettings/ }).waitFor();
    const liveEntry = ops.getByRole('region', { name: 'Audit trail, newest first' }).locator('[title="migration.live"]').first();
    await liveEntry.waitFor();
    check((await liveEntry.textContent()) === 'Live', 'the audit trail names migration.live in words');
    await ops.getByRole('region', { name: 'Chunks' }).getByText('done').first().waitFor();
    await ops.getByRole('heading', { name: 'State machine execution' }).waitFor();
    const history = ops.getByRole('region', { name: 'Execution history, newest first' });
    await history.locator('tbody tr').first().waitFor();
    const events = await history.locator('tbody tr').count();
    check(events >= 1, `the execution history lists at least one event, got ${events}`);
    await ops.getByRole('link', { name: 'Skip to content' }).focus();
    await ops.keyboard.press('Enter');
    check((await ops.evaluate(() => document.activeElement?.id)) === 'main', 'ops: the skip link focuses the main content');
    await ops.getByRole('heading', { name: /Harbour Lettings/ }).waitFor();
    check(ops.url().includes('#migration='), 'ops: the skip link keeps the migration selected');
    await snap(ops, 'ops-detail');
    pass('ops: listed as live; detail with timeline, execution, chunks and audit');

    // ---------------------------------------------------------------- ops: lifecycle events
    // What the product being joined was told, as the service published it.
    const eventsTable = ops.getByRole('region', { name: 'Lifecycle events published to the product, oldest first' });
    for (const label of ['Test migration completed', 'Sign-off requested', 'Sign-off approved', 'Final migration scheduled', 'Final migration starting (the freeze)', 'Live']) {
      const row = eventsTable.getByRole('row', { name: new RegExp(label.replace(/[()]/g, '\\$&')) }).first();
      await row.waitFor();
      check(/published/.test((await row.textContent()) ?? ''), `ops: the ${label} event is shown as published`);
    }
    await eventsTable.scrollIntoViewIfNeeded();
    await snap(ops, 'ops-lifecycle-events');
    pass('ops: the lifecycle events published, in order');

    // ---------------------------------------------------------------- ops: mail and re-issuing the invite
    const mailTable = ops.getByRole('region', { name: 'Mail to the customer, coordinator and ops, oldest first' });
    for (const subject of ['Your data migration: your invite link', 'Your test migration workbook is ready', 'Your go-live is scheduled', 'Your migration is live']) {
      await mailTable.getByRole('row', { name: new RegExp(subject) }).first().waitFor();
    }
    check((await mailTable.getByText(/^pending|^failed/).count()) === 0, 'every mail of the journey was sent');
    await ops.getByRole('button', { name: 'Re-issue invite link' }).click();
    const reissued = ops.locator('#reissued-invite-url');
    await reissued.waitFor();
    const newLink = await reissued.inputValue();
    check(newLink.includes(`#m=${migrationId}&k=`) && !newLink.endsWith(invite.slice(invite.indexOf('&k='))), 'a new invite link is shown');
    await ops.getByText('A new invite link was mailed to the customer. The old link no longer opens the migration.').waitFor();
    await ops.getByRole('button', { name: 'Copy' }).waitFor();
    await assertLabelled(ops, 'ops detail with the re-issued invite');
    await snap(ops, 'ops-reissued-invite');
    const oldKey = invite.slice(invite.indexOf('&k=') + 3);
    const refused = await fetch(`${SITE_URL}/api/migrations/${migrationId}`, { headers: { Authorization: `Bearer ${oldKey}` } });
    check(refused.status === 403, `the old invite link answers 403 after the re-issue, got ${refused.status}`);
    const mailed = inviteFrom(await mailTo(`it-${tenantId}@example.test`, 'Your data migration: your invite link'));
    check(mailed.endsWith(newLink.slice(newLink.indexOf('#'))), 'the re-issued link was mailed');
    pass('ops: mail listed as sent; invite re-issued, mailed, old link refused');

    // ---------------------------------------------------------------- an upload resumed after a reload
    await resumeAfterReload(browser, watch, tenantId);

    check(pageErrors.length === 0, `uncaught errors in the pages: ${pageErrors.join('; ')}`);
    check(siteMissing.size === 0, `the pages asked the site for files it does not have: ${[...siteMissing].join(', ')}`);
    console.log(`journey passed: ${shots} screenshots in ${ARTIFACTS} (${secs()})`);
  } catch (err) {
    for (const ctx of browser.contexts()) {
      for (const p of ctx.pages()) {
        try {
          shots += 1;
          await p.screenshot({ path: join(ARTIFACTS, `${String(shots).padStart(2, '0')}-failure.png`), fullPage: true });
        } catch {
          // the page may be gone
        }
      }
    }
    if (pageErrors.length) console.error(`uncaught errors in the pages: ${pageErrors.join('; ')}`);
    throw err;
  } finally {
    await browser.close();
  }
}

/**
 * A second customer uploads a four-part file; parts 3 and 4 are held on
 * their way to S3 while 1 and 2 land, the page is reloaded, the same file
 * is picked again, and only parts 3 and 4 are sent again.
 */
async function resumeAfterReload(browser, watch, tenantId) {
  const resumeTenant = `${tenantId}-r`;
  const customer = `it-${resumeTenant}@example.test`;
  const created = await api('POST', '/ops/migrations', {
    tenantId: resumeTenant,
    customerName: 'Harbour Resume',
    customerEmail: customer,
    coordinatorEmail: `c-${resumeTenant}@example.test`,
  });
  const id = created.migration.id;
  // Four parts of 8 MiB (the last shorter): big enough to stop between parts.
  const row = 'Id,First Name,Last Name,Email\n';
  const lines = [row];
  let size = row.length;
  for (let i = 1; size < 26 * 1024 * 1024; i++) {
    const line = `${i},First${i},Last${i},person${i}@example.com\n`;
    lines.push(line);
    size += line.length;
  }
  const name = 'big-contacts.csv';
  const dir = mkdtempSync(join(tmpdir(), 'cutover-resume-'));
  const file = join(dir, name); // the browser names the file by its path's last part
  writeFileSync(file, lines.join(''));

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  watch(page, 'customer (resume)');
  try {
    const partOf = (url) => Number(new URL(url).searchParams.get('partNumber'));
    const isPart = (req) => req.method() === 'PUT' && /[?&]partNumber=\d+/.test(req.url());
    const before = new Map();
    const after = new Map();
    let reloaded = false;
    let listed = 0;
    const landed = new Set();
    page.on('request', (req) => {
      if (isPart(req)) {
        const counts = reloaded ? after : before;
        counts.set(partOf(req.url()), (counts.get(partOf(req.url())) ?? 0) + 1);
      }
      if (req.method() === 'GET' && req.url().includes(`/api/migrations/${id}/uploads/`) && req.url().endsWith('/parts')) listed += 1;
    });
    page.on('requestfinished', async (req) => {
      if (isPart(req) && (await req.response())?.ok()) landed.add(partOf(req.url()));
    });
    // Hold parts 3 and 4 on their way to S3 until the page is gone.
    const held = [];
    let holding = true;
    await page.route(/[?&]partNumber=[34](&|$)/, (route) => (holding && route.request().method() === 'PUT' ? held.push(route) : route.continue()));

    await page.goto(inviteFrom(await mailTo(customer, 'Your data migration: your invite link')));
    await waitHeading(page, 'Your record counts');
    await page.locator('input[type=file]').first().setInputFiles(file);
    await until(() => landed.has(1) && landed.has(2) && held.length >= 2, 'parts 1 and 2 are in S3 and parts 3 and 4 are on their way', 120_000);
    await snap(page, 'customer-upload-before-reload');

    reloaded = true;
    holding = false;
    await page.reload();
    for (const route of held) await route.abort().catch(() => {});
    await waitHeading(page, 'Your record counts');
    // Before the file is picked again, the page says the upload is unfinished and how far it got.
    await page.getByRole('list', { name: 'Unfinished uploads' }).getByText(/2 of \d+ parts uploaded: pick the same file again to resume it/).waitFor({ timeout: 30_000 });
    await snap(page, 'customer-upload-unfinished');
    await page.locator('input[type=file]').first().setInputFiles(file);
    const upload = page.locator(`li.upload[data-file-name="${name}"]`);
    await upload.getByText('Uploaded').waitFor({ timeout: 120_000 });
    await page.getByRole('list', { name: 'Test extract files received' }).getByText(name).waitFor();
    await snap(page, 'customer-upload-resumed');

    const counts = (m) => JSON.stringify([...m].sort((a, b) => a[0] - b[0]));
    check(before.get(1) === 1 && before.get(2) === 1, `before the reload parts 1 and 2 went once: ${counts(before)}`);
    check(!after.has(1) && !after.has(2), `parts already in S3 were sent again after the reload: ${counts(after)}`);
    check(after.get(3) === 1 && after.get(4) === 1, `after the reload parts 3 and 4 went once each: ${counts(after)}`);
    check(listed >= 1, 'the page asked the server which parts S3 holds');
    const detail = await api('GET', `/ops/migrations/${id}`);
    const files = detail.migration.files ?? [];
    check(files.length === 1 && files[0].complete && files[0].size === size, `one upload, complete, of ${size} bytes: ${JSON.stringify(files)}`);
    pass(`upload resumed after a reload: parts before ${counts(before)}, after ${counts(after)}`);
  } catch (err) {
    await snap(page, 'resume-failure').catch(() => {});
    throw err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await ctx.close();
  }
}

main().catch((err) => {
  console.error(`FAIL ${err instanceof Error ? err.message : String(err)} (${secs()})`);
  process.exit(1);
});
