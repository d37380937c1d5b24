// End to end in a real browser: Debian's Chromium driven by playwright-core,
// against the built UI (vite build --mode e2e) whose IPC is answered by the
// in-memory backend in src/mock/backend.ts through @tauri-apps/api/mocks.
// Every screen's main flow runs in English and in Spanish, each screen gets
// an axe-core audit (no serious or critical violations allowed), and
// screenshots are kept in e2e/artifacts/.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { extname, join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist-e2e');
const artifacts = join(here, 'artifacts');
const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };
let server;
let base;
let browser;

before(async () => {
  assert.ok(existsSync(join(dist, 'index.html')), 'build first: npx vite build --mode e2e');
  await mkdir(artifacts, { recursive: true });
  server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const file = join(dist, path === '/' ? 'index.html' : path);
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

const TEXT = {
  en: {
    profileName: 'Your name', createProfile: 'Create my profile', demo: 'Open the demo community',
    community: 'Remote & Rural Emergency Care', cases: 'Cases', questions: 'Questions', protocols: 'Protocols',
    search: 'Search', members: 'Members', connectivity: 'Connectivity', settings: 'Settings',
    presentCase: 'Present a case', title: 'Title', presenting: 'Presenting complaint', ask: 'What you are asking',
    share: 'Share case', required: 'This is required.', reply: 'Your reply', replySubmit: 'Reply',
    outcomeLabel: 'What happened (follow-up)', outcomeSave: 'Save outcome', resolve: 'Mark resolved', resolved: 'Resolved',
    yourAnswer: 'Your answer', answerSubmit: 'Answer', helpful: 'Helpful', accept: 'Accept answer', accepted: 'Accepted',
    protocolText: 'Protocol text', preview: 'Preview', saved: 'All changes saved', status: 'Status', reviewDate: 'Review date',
    addReference: 'Add a reference', add: 'Add', history: 'Who changed what', searchLabel: 'Search cases, questions and protocols',
    kind: 'Kind', results: 'results', findHelp: 'Find who can help with a topic', refusedRule: 'the rules do not let its device change this', inviteCreate: 'Create invitation', revoked: 'revoked',
    ticket: 'Ticket', joinTicket: 'Invitation ticket', join: 'Join', notTicket: 'This is not an Outpost invitation ticket.',
    language: 'Language', relayUrl: 'Relay URL', save: 'Save', synced: 'Synced', pending: 'Not yet synced',
    lan: 'On this network', known: "Known members' computers", qr: 'QR code',
    identifiers: 'Possible patient identifiers', redactName: 'Replace with [NAME]', shareAnyway: 'Share as it is',
    held: 'Not saved: possible patient identifiers below',
    exchange: 'USB stick', bundleFile: 'File', bundlePass: 'Passphrase for the file', again: 'Passphrase again',
    saveBundle: 'Save bundle', openBundle: 'Open and merge', addMember: "Add a member by their computer's id", addMemberButton: 'Add member',
    shortPass: 'At least 8 characters.', badDevice: "A computer's id is 64 letters (a–f) and digits.",
    passphrase: 'Passphrase', currentPass: 'Current passphrase', newPass: 'New passphrase', changePass: 'Change passphrase',
    passChanged: 'Passphrase changed. The old one no longer opens Outpost.',
    badRelay: "'not a url' is not a relay address", wrongPass: /^Wrong passphrase: it does not unlock this home/,
  },
  es: {
    profileName: 'Tu nombre', createProfile: 'Crear mi perfil', demo: 'Abrir la comunidad de demostración',
    community: 'Remote & Rural Emergency Care', cases: 'Casos', questions: 'Preguntas', protocols: 'Protocolos',
    search: 'Buscar', members: 'Miembros', connectivity: 'Conectividad', settings: 'Ajustes',
    presentCase: 'Presentar un caso', title: 'Título', presenting: 'Motivo de consulta', ask: 'Qué preguntas',
    share: 'Compartir caso', required: 'Este campo es obligatorio.', reply: 'Tu respuesta', replySubmit: 'Responder',
    outcomeLabel: 'Qué ocurrió (seguimiento)', outcomeSave: 'Guardar evolución', resolve: 'Marcar como resuelto', resolved: 'Resuelto',
    yourAnswer: 'Tu respuesta', answerSubmit: 'Responder', helpful: 'Útil', accept: 'Aceptar respuesta', accepted: 'Aceptada',
    protocolText: 'Texto del protocolo', preview: 'Vista previa', saved: 'Todos los cambios guardados', status: 'Estado', reviewDate: 'Fecha de revisión',
    addReference: 'Añadir una referencia', add: 'Añadir', history: 'Quién cambió qué', searchLabel: 'Buscar casos, preguntas y protocolos',
    kind: 'Tipo', results: 'resultados', findHelp: 'Encuentra quién puede ayudar con un tema', refusedRule: 'las reglas no permiten a su dispositivo cambiar esto', inviteCreate: 'Crear invitación', revoked: 'revocada',
    ticket: 'Invitación', joinTicket: 'Invitación', join: 'Unirme', notTicket: 'Esto no es una invitación de Outpost.',
    language: 'Idioma', relayUrl: 'URL del relé', save: 'Guardar', synced: 'Sincronizado', pending: 'Sin sincronizar',
    lan: 'En esta red', known: 'Ordenadores de miembros conocidos', qr: 'Código QR',
    identifiers: 'Posibles datos identificativos del paciente', redactName: 'Sustituir por [NAME]', shareAnyway: 'Compartir tal cual',
    held: 'Sin guardar: posibles datos identificativos abajo',
    exchange: 'Memoria USB', bundleFile: 'Archivo', bundlePass: 'Frase de contraseña del archivo', again: 'Repite la frase de contraseña',
    saveBundle: 'Guardar paquete', openBundle: 'Abrir y fusionar', addMember: 'Añadir un miembro por el identificador de su ordenador', addMemberButton: 'Añadir miembro',
    shortPass: 'Al menos 8 caracteres.', badDevice: 'El identificador de un ordenador tiene 64 letras (a–f) y cifras.',
    passphrase: 'Frase de contraseña', currentPass: 'Frase de contraseña actual', newPass: 'Nueva frase de contraseña', changePass: 'Cambiar la frase de contraseña',
    passChanged: 'Frase de contraseña cambiada. La anterior ya no abre Outpost.',
    badRelay: "'not a url' no es una dirección de relé", wrongPass: /^Frase de contraseña incorrecta: no abre estos datos/,
  },
};

async function audit(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${name}: axe found serious/critical violations:\n${JSON.stringify(bad, null, 2)}`);
}

const nav = (page, name) => page.getByRole('navigation').getByRole('button', { name, exact: true }).click();
const heading = (page, text) => page.locator('main h1', { hasText: text }).waitFor();

for (const lang of ['en', 'es']) {
  const T = TEXT[lang];
  describe(`the app in ${lang}`, { concurrency: false }, () => {
    let context;
    let page;
    const errors = [];

    before(async () => {
      context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: lang === 'es' ? 'es-ES' : 'en-GB' });
      await context.addInitScript((l) => localStorage.setItem('outpost.lang', l), lang);
      page = await context.newPage();
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('dialog', (d) => d.accept());
      await page.goto(base);
    });
    after(async () => {
      assert.deepEqual(errors, [], 'no uncaught errors in the page');
      await context?.close();
    });

    test('first run: profile, then the demo community', async () => {
      await page.getByRole('heading', { level: 1 }).waitFor();
      await audit(page, `${lang}-first-run-profile`);
      await page.getByRole('button', { name: T.createProfile }).click();
      await page.getByText(T.required).waitFor();
      await page.getByLabel(T.profileName).fill('Dr Ana Ruiz');
      await page.getByRole('button', { name: T.createProfile }).click();
      await page.getByRole('button', { name: T.demo }).waitFor();
      await audit(page, `${lang}-first-run-start`);
      await page.getByRole('button', { name: T.demo }).click();
      await heading(page, T.community);
      assert.equal(await page.locator('html').getAttribute('lang'), lang);
      await audit(page, `${lang}-community-home`);
    });

    test('cases: form validation, create, reply, outcome, resolve', async () => {
      await nav(page, T.cases);
      await page.getByTestId('item-list').getByText('Snakebite with delayed coagulopathy').waitFor();
      await audit(page, `${lang}-cases`);
      await page.getByRole('main').getByRole('button', { name: T.presentCase }).click();
      await page.getByRole('button', { name: T.share }).click();
      assert.equal(await page.getByText(T.required).count(), 3);
      await audit(page, `${lang}-case-form-errors`);
      await page.getByLabel(T.title, { exact: true }).fill(`Chest pain at the mine (${lang})`);
      await page.getByLabel(T.presenting).fill('Mrs Okafor: sudden central chest pain, 2 hours.');
      await page.getByLabel(T.ask, { exact: true }).fill('Thrombolyse before a 6-hour transfer?');
      // Before sharing: the surname is highlighted and redacted with one click.
      await page.getByRole('button', { name: T.share }).click();
      await page.getByRole('heading', { name: T.identifiers }).waitFor();
      assert.equal(await page.locator('.identifiers mark').first().textContent(), 'Okafor');
      await audit(page, `${lang}-case-identifiers`);
      await page.getByRole('button', { name: T.redactName }).click();
      assert.equal(await page.getByLabel(T.presenting).inputValue(), 'Mrs [NAME]: sudden central chest pain, 2 hours.');
      await page.getByRole('heading', { name: T.identifiers }).waitFor({ state: 'detached' });
      await page.getByRole('button', { name: T.share }).click();
      await heading(page, `Chest pain at the mine (${lang})`);
      await page.getByText('Mrs [NAME]: sudden central chest pain').waitFor();
      await page.getByText(T.pending).first().waitFor();
      await page.getByLabel(T.reply, { exact: true }).fill('ECG first, **then** decide.');
      await page.getByRole('button', { name: T.replySubmit, exact: true }).click();
      await page.locator('.post strong', { hasText: 'then' }).waitFor();
      await page.getByLabel(T.outcomeLabel).fill('Transferred; STEMI confirmed.');
      await page.getByRole('button', { name: T.outcomeSave }).click();
      await page.getByRole('button', { name: T.resolve }).click();
      await page.locator('article header').getByText(T.resolved, { exact: true }).waitFor();
      await audit(page, `${lang}-case-view`);
    });

    test('questions: answer, mark helpful, accept', async () => {
      await nav(page, T.questions);
      await page.getByRole('button', { name: 'Oxytocin storage without a fridge?' }).click();
      await heading(page, 'Oxytocin storage');
      await page.getByLabel(T.yourAnswer).fill('Weeks at 30 °C lose potency; keep a cool box.');
      await page.getByRole('button', { name: T.answerSubmit, exact: true }).click();
      await page.getByText('keep a cool box').waitFor();
      await page.getByRole('button', { name: `${T.helpful}: Dr Ana Ruiz` }).click();
      await page.getByRole('button', { name: `${T.helpful}: Dr Ana Ruiz` }).and(page.locator(':disabled')).waitFor();
      // Answered but none accepted: the status filter finds it (it used to
      // be "open", which no filter offered).
      const byStatus = async (status, listed) => {
        await nav(page, T.questions);
        await page.getByLabel(T.status, { exact: true }).selectOption(status);
        const row = page.getByTestId('item-list').getByRole('button', { name: 'Oxytocin storage without a fridge?' });
        if (listed) await row.waitFor();
        else await row.waitFor({ state: 'detached' });
      };
      await byStatus('answered', true);
      await byStatus('unanswered', false);
      await byStatus('answered', true);
      await page.getByRole('button', { name: 'Oxytocin storage without a fridge?' }).click();
      await heading(page, 'Oxytocin storage');
      await page.getByRole('button', { name: `${T.accept}: Dr Ana Ruiz` }).click();
      await page.locator('.answer.accepted').getByText(T.accepted).waitFor();
      await audit(page, `${lang}-question-view`);
      await byStatus('accepted', true);
      await byStatus('answered', false);
      await page.getByLabel(T.status, { exact: true }).selectOption('');
    });

    test('protocols: edit with live preview, status, review date, references, history, a peer edit merges in', async () => {
      await nav(page, T.protocols);
      await page.getByRole('button', { name: 'Sepsis: first hour in a remote clinic' }).click();
      const editor = page.getByLabel(T.protocolText);
      await editor.waitFor();
      await editor.press('End');
      await editor.pressSequentially('\n4. Reassess at 1 hour');
      await page.getByRole('region', { name: T.preview }).getByText('Reassess at 1 hour').waitFor();
      await page.getByTestId('save-state').getByText(T.saved).waitFor();
      await page.getByLabel(T.status, { exact: true }).selectOption('endorsed');
      await page.getByLabel(T.reviewDate).fill('2027-03-01');
      await page.getByRole('button', { name: T.save, exact: true }).click();
      await page.getByLabel(T.addReference).fill('WHO pocket book 2023');
      await page.getByRole('button', { name: T.add, exact: true }).click();
      await page.getByRole('listitem').filter({ hasText: 'WHO pocket book 2023' }).waitFor();
      await page.getByRole('heading', { name: T.history }).waitFor();
      assert.ok((await page.locator('ol.history li').count()) >= 2);
      // Another member's edit arrives while the editor is open.
      const id = await page.evaluate(() => [...window.__outpost.state.items.values()].find((i) => i.kind === 'protocol').id);
      await page.evaluate((pid) => window.__outpost.peerEditsProtocol(pid, '> Reviewed by Tomás\n\n'), id);
      await page.getByRole('region', { name: T.preview }).getByText('Reviewed by Tomás').waitFor();
      assert.match(await editor.inputValue(), /Reviewed by Tomás[\s\S]*Reassess at 1 hour/);
      await audit(page, `${lang}-protocol-editor`);
      // A name typed into the protocol holds the autosave until the author decides.
      await editor.press('End');
      await editor.pressSequentially('\nEscalate to Dr Quigley');
      await page.getByTestId('save-state').getByText(T.held).waitFor();
      await page.getByRole('heading', { name: T.identifiers }).waitFor();
      // Leaving the editor while it is held loses nothing: the text comes back, still held.
      await nav(page, T.cases);
      await nav(page, T.protocols);
      await page.getByRole('button', { name: 'Sepsis: first hour in a remote clinic' }).click();
      await page.getByTestId('save-state').getByText(T.held).waitFor();
      assert.match(await editor.inputValue(), /Escalate to Dr Quigley$/);
      await page.getByRole('button', { name: T.shareAnyway }).click();
      await page.getByTestId('save-state').getByText(T.saved).waitFor();
      await page.getByRole('heading', { name: T.identifiers }).waitFor({ state: 'detached' });
    });

    test('search as you type, with kind filter and highlighted snippets', async () => {
      await page.getByRole('banner').getByRole('button', { name: T.search }).click();
      const box = page.getByLabel(T.searchLabel);
      await box.pressSequentially('seps');
      await page.getByTestId('search-results').locator('mark').first().waitFor();
      await box.pressSequentially('is');
      await page.getByTestId('search-results').getByRole('button', { name: 'Sepsis: first hour in a remote clinic' }).waitFor();
      const marks = await page.getByTestId('search-results').locator('mark').allTextContents();
      assert.ok(marks.some((m) => m.toLowerCase() === 'sepsis'), `marks: ${marks}`);
      await page.getByLabel(T.kind).selectOption('case');
      await page.getByTestId('search-results').getByRole('button', { name: 'Febrile toddler, no labs' }).waitFor();
      assert.equal(await page.getByTestId('search-results').getByRole('button', { name: 'Sepsis: first hour in a remote clinic' }).count(), 0);
      await audit(page, `${lang}-search`);
    });

    test('members: find who can help with a topic', async () => {
      await nav(page, T.members);
      await page.getByLabel(T.findHelp).fill('snakebite');
      const list = page.getByTestId('member-list');
      await list.getByText('Tomás Herrera').waitFor();
      assert.equal(await list.locator('li').count(), 1);
      // Admins see what was refused, from whom, under which rule.
      const refused = page.getByTestId('refused-changes');
      await refused.getByRole('cell', { name: T.refusedRule }).waitFor();
      await refused.getByRole('cell', { name: 'Tomás Herrera' }).first().waitFor();
      await audit(page, `${lang}-members`);
    });

    test('connectivity: peers, invitation with QR code, join by pasting a ticket', async () => {
      await nav(page, T.connectivity);
      await page.getByRole('heading', { name: T.lan }).waitFor();
      await page.getByRole('table').getByText('Dr Amina Okafor').waitFor();
      await page.getByRole('button', { name: T.inviteCreate }).click();
      const ticket = await page.getByLabel(T.ticket, { exact: true }).first().inputValue();
      assert.match(ticket, /^outpostinvite/);
      const qr = page.getByRole('img', { name: new RegExp(T.qr) });
      await qr.waitFor();
      assert.match(await qr.getAttribute('src'), /^data:image\/png;base64,/);
      // The new invitation is listed as pending, and revoking it takes it away.
      const pending = page.getByTestId('pending-invites');
      await pending.locator('li').first().waitFor();
      const before = await pending.locator('li').count();
      await pending.getByRole('button').first().click();
      await page.getByRole('status').filter({ hasText: T.revoked }).waitFor();
      assert.equal(await page.getByTestId('pending-invites').locator('li').count().catch(() => 0), before - 1);
      await page.getByLabel(T.joinTicket, { exact: true }).last().fill('not a ticket');
      await page.getByRole('button', { name: T.join, exact: true }).click();
      await page.getByText(T.notTicket).waitFor();
      await audit(page, `${lang}-connectivity`);
    });

    test('USB stick: save a bundle, open it with the wrong and right passphrase, add a member by id', async () => {
      await nav(page, T.exchange);
      const save = page.getByRole('region', { name: new RegExp(lang === 'en' ? 'Save the community' : 'Guardar la comunidad') });
      const file = save.getByLabel(T.bundleFile, { exact: true });
      assert.match(await file.inputValue(), /\.outpost$/);
      await save.getByLabel(T.bundlePass, { exact: true }).fill('short');
      await save.getByRole('button', { name: T.saveBundle }).click();
      await save.getByRole('alert').waitFor();
      await save.getByLabel(T.bundlePass, { exact: true }).fill('stick passphrase');
      await save.getByLabel(T.again, { exact: true }).fill('stick passphrase');
      await save.getByRole('button', { name: T.saveBundle }).click();
      await save.getByRole('status').getByText(/\.outpost/).waitFor();
      const path = await file.inputValue();
      const open = page.getByRole('region', { name: new RegExp(lang === 'en' ? 'Open a bundle' : 'Abrir un paquete') });
      await open.getByLabel(T.bundleFile, { exact: true }).fill(path);
      await open.getByLabel(T.bundlePass, { exact: true }).fill('not the passphrase');
      await open.getByRole('button', { name: T.openBundle }).click();
      await open.getByRole('alert').getByText(/wrong passphrase/).waitFor();
      await open.getByLabel(T.bundlePass, { exact: true }).fill('stick passphrase');
      await open.getByRole('button', { name: T.openBundle }).click();
      await open.getByRole('status').getByText(T.community).waitFor();
      await page.getByLabel(T.addMember).fill('not an id');
      await page.getByRole('button', { name: T.addMemberButton }).click();
      await page.getByText(T.badDevice).waitFor();
      await page.getByLabel(T.addMember).fill('c'.repeat(64));
      await page.getByRole('button', { name: T.addMemberButton }).click();
      await page.getByRole('status').getByText('cccccccccccc').waitFor();
      await audit(page, `${lang}-exchange`);
    });

    test('settings: relay URL checked, language switch', async () => {
      await nav(page, T.settings);
      await page.getByLabel(T.relayUrl).fill('not a url');
      await page.getByRole('region', { name: /Relay|Relé/ }).getByRole('button', { name: T.save }).click();
      // Backend errors arrive as codes and read in the user's language.
      await page.getByText(T.badRelay).waitFor();
      // Changing the passphrase: the current one is checked at its field.
      const pass = page.getByRole('region', { name: T.passphrase, exact: true });
      await pass.getByLabel(T.currentPass).fill('not it');
      await pass.getByLabel(T.newPass).fill('a new long passphrase');
      await pass.getByLabel(T.again).fill('a new long passphrase');
      await pass.getByRole('button', { name: T.changePass }).click();
      await pass.getByRole('alert').getByText(T.wrongPass).waitFor();
      await pass.getByLabel(T.currentPass).fill('correct horse battery staple');
      await pass.getByRole('button', { name: T.changePass }).click();
      await pass.getByRole('status').getByText(T.passChanged).waitFor();
      await audit(page, `${lang}-settings`);
      const other = lang === 'en' ? 'es' : 'en';
      await page.getByRole('combobox', { name: T.language }).selectOption(other);
      await page.getByRole('heading', { level: 1, name: TEXT[other].settings }).waitFor();
      assert.equal(await page.locator('html').getAttribute('lang'), other);
      await page.getByRole('combobox', { name: TEXT[other].language }).selectOption(lang);
      await page.getByRole('heading', { level: 1, name: T.settings }).waitFor();
    });

    test('live: a case from another member appears in the open list', async () => {
      await nav(page, T.cases);
      await page.getByTestId('item-list').waitFor();
      await page.evaluate(() => window.__outpost.peerAddsCase('Arrived while you watched'));
      await page.getByTestId('item-list').getByText('Arrived while you watched').waitFor({ timeout: 5000 });
      await page.screenshot({ path: join(artifacts, `${lang}-live-update.png`) });
    });

    test('keyboard only: skip link, then reach and use a case form', async () => {
      // The skip link comes first: one Shift+Tab back from the community switcher.
      await page.locator('#community-switch').focus();
      await page.keyboard.press('Shift+Tab');
      const skip = page.getByRole('link', { name: lang === 'en' ? 'Skip to content' : 'Ir al contenido' });
      assert.equal(await skip.evaluate((el) => el === document.activeElement), true);
      await page.keyboard.press('Enter');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
      await nav(page, T.cases);
      await page.getByRole('main').getByRole('button', { name: T.presentCase }).focus();
      await page.keyboard.press('Enter');
      await heading(page, T.presentCase);
      await page.getByLabel(T.title, { exact: true }).focus();
      await page.keyboard.type('Keyboard-only case');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'case-age');
    });
  });
}
