// The operators' dashboard in the browser. Everything shown comes from the JSON routes
// under /dashboard/, already formatted by the server (yuan with separators, times in
// Asia/Shanghai); it is put into the page with textContent only, never as markup.
// The token lives in sessionStorage (this tab only) and travels as a Bearer header on
// every request; nothing here ever puts it in the address.
'use strict';
(() => {
  const SESSION_KEY = 'lendpay.dashboard.session';
  const $ = (id) => document.getElementById(id);
  let session = null; // { token, name, role }
  let timer = null;
  let generation = 0; // a view's answer that arrives after the operator moved on is dropped
  const charts = new Map();

  // ---- small DOM helpers ---------------------------------------------------------------
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function timeEl(stamp) {
    const t = document.createElement('time');
    if (stamp) { t.dateTime = stamp.iso; t.textContent = stamp.text; }
    return t;
  }
  function cell(c, cls) {
    const td = document.createElement('td');
    if (cls) td.className = cls;
    if (c instanceof Node) td.appendChild(c);
    else td.textContent = c === null || c === undefined ? '' : String(c);
    return td;
  }
  function row(cells, numeric) {
    const tr = document.createElement('tr');
    cells.forEach((c, i) => tr.appendChild(cell(c, numeric && numeric.includes(i) ? 'num' : '')));
    return tr;
  }
  function stateEl(text, state) { return el('span', text, 'state-' + String(state || text).replace(/[^a-z]/gi, '')); }
  function note(table, text, cls) {
    const tr = document.createElement('tr');
    const td = el('td', text, cls);
    td.colSpan = table.querySelector('thead tr')?.children.length || 1;
    tr.appendChild(td);
    return tr;
  }
  function fill(table, rows, emptyText) {
    table.querySelector('tbody').replaceChildren(...(rows.length ? rows : [note(table, emptyText, 'empty')]));
  }
  function loadingRows(table) { table.querySelector('tbody').replaceChildren(note(table, 'loading…', 'loading')); }
  function link(text, hash) { const a = el('a', text); a.href = hash; return a; }
  function customerLink(id) { return id ? link(id, '#/customers/' + encodeURIComponent(id)) : el('span', '-'); }
  function orderLink(id, label) { return link(label ?? id, '#/orders/' + encodeURIComponent(id)); }
  function facts(dl, pairs) {
    dl.replaceChildren(...pairs.flatMap(([k, v]) => [el('dt', k), (() => { const dd = el('dd'); if (v instanceof Node) dd.appendChild(v); else dd.textContent = v === null || v === undefined ? '-' : String(v); return dd; })()]));
  }
  function setStatus(text, cls) { const s = $('status'); s.textContent = text || ''; s.className = cls || 'muted'; }

  // ---- the API ------------------------------------------------------------------------
  class SignedOut extends Error {}
  async function api(path, opts) {
    const o = opts || {};
    const headers = Object.assign({ accept: 'application/json' }, o.headers || {}, { authorization: 'Bearer ' + session.token });
    const r = await fetch(path, { method: o.method || 'GET', headers, body: o.body, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' });
    if (r.status === 401) { signOut('Your token was not accepted any more: sign in again.'); throw new SignedOut('signed out'); }
    const body = await r.json().catch(() => ({}));
    if (!r.ok) {
      const e = new Error(r.status === 403 ? 'your role (' + session.role + ') may not do this' : (body.message || 'HTTP ' + r.status));
      e.status = r.status;
      throw e;
    }
    return body;
  }

  // ---- signing in and out -------------------------------------------------------------
  async function whoIs(token) {
    const r = await fetch('/dashboard/session', { headers: { authorization: 'Bearer ' + token, accept: 'application/json' }, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' });
    if (r.status === 401) return { error: 'That token was not accepted.' };
    if (r.status === 403) return { error: 'That token may not read the dashboard (it needs the read or operator role).' };
    if (!r.ok) return { error: 'Signing in failed: HTTP ' + r.status };
    return r.json();
  }

  function showSignIn(message) {
    $('app').hidden = true; $('nav').hidden = true; $('search-form').hidden = true; $('who').hidden = true;
    $('signin-view').hidden = false;
    $('signin-error').textContent = message || '';
    $('signin-token').focus();
  }

  function signOut(message) {
    sessionStorage.removeItem(SESSION_KEY);
    session = null;
    clearTimeout(timer);
    generation++;
    for (const c of charts.values()) c.destroy();
    charts.clear();
    showSignIn(message);
  }

  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const input = $('signin-token');
    const token = input.value.trim();
    if (!token) return;
    $('signin-error').textContent = '';
    const who = await whoIs(token).catch((e) => ({ error: 'Signing in failed: ' + e.message }));
    if (who.error) { $('signin-error').textContent = who.error; return; }
    input.value = '';
    session = { token, name: who.name, role: who.role };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    start();
  });
  $('sign-out').addEventListener('click', () => signOut('Signed out.'));

  function start() {
    $('signin-view').hidden = true;
    $('app').hidden = false; $('nav').hidden = false; $('search-form').hidden = false; $('who').hidden = false;
    $('who-name').textContent = session.name;
    $('who-role').textContent = session.role;
    document.body.dataset.role = session.role;
    route();
  }

  // ---- views --------------------------------------------------------------------------
  const VIEWS = ['overview', 'holds', 'charts', 'customer', 'order'];
  function show(name) {
    for (const v of VIEWS) $('view-' + v).hidden = v !== name;
    for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.nav === name);
  }

  function route() {
    if (!session) return;
    clearTimeout(timer);
    const g = ++generation;
    setStatus('');
    const h = location.hash || '#/';
    let m;
    if ((m = /^#\/customers\/(.+)$/.exec(h))) { show('customer'); return loadCustomer(decodeURIComponent(m[1]), g); }
    if ((m = /^#\/orders\/(.+)$/.exec(h))) { show('order'); return loadOrder(decodeURIComponent(m[1]), g); }
    if ((m = /^#order=(.+)$/.exec(h))) { show('order'); return loadOrder(decodeURIComponent(m[1]), g); }
    if ((m = /^#\/find\/(.+)$/.exec(h))) { setStatus('looking for ' + decodeURIComponent(m[1]) + '…', 'loading'); return find(decodeURIComponent(m[1]), g); }
    if (h.startsWith('#/holds')) { show('holds'); return loadHolds(new URLSearchParams(h.slice('#/holds'.length).replace(/^\?/, '')), g); }
    if (h === '#/charts') { show('charts'); return loadCharts(g, true); }
    show('overview');
    return loadOverview(g, true);
  }
  window.addEventListener('hashchange', route);

  function failed(e, g) {
    if (e instanceof SignedOut || g !== generation) return;
    setStatus('could not load: ' + e.message, 'error');
  }
  function again(fn, g, ms) { if (g === generation) timer = setTimeout(() => fn(g, false), ms); }

  // -- overview
  async function loadOverview(g, first) {
    if (first) { for (const t of ['runs', 'stuck', 'loans', 'queue', 'alerts']) loadingRows($(t)); $('holds-summary').textContent = ''; $('holds-detail').replaceChildren(el('span', 'loading…', 'loading')); }
    let s;
    try { s = await api('/dashboard/summary'); } catch (e) { failed(e, g); again(loadOverview, g, 5000); return; }
    if (g !== generation) return;
    setStatus('updated ' + s.now.text + ' (Asia/Shanghai)');
    fill($('runs'), s.runs.map((r) => {
      const p = el('progress'); p.max = Math.max(1, r.totalChunks); p.value = r.totalChunks === 0 ? (r.status === 'running' ? 0 : 1) : r.doneChunks;
      const tr = row([r.id, r.kind, r.businessDate, stateEl(r.status), p, r.doneChunks + ' / ' + r.totalChunks, r.items.toLocaleString('en-US'), timeEl(r.startedAt), timeEl(r.finishedAt)], [6]);
      tr.dataset.runId = String(r.id); return tr;
    }), 'No batch run yet.');
    const max = Math.max(1, ...s.funnel.map((f) => f.count));
    $('funnel').replaceChildren(...s.funnel.map((f) => {
      const d = el('div', undefined, 'funnel-row'); d.dataset.state = f.state;
      const bar = el('div', undefined, 'bar'); const fillBar = el('div'); fillBar.style.width = Math.round((f.count / max) * 100) + '%'; bar.appendChild(fillBar);
      d.append(stateEl(f.state), bar, el('span', f.count.toLocaleString('en-US')), el('span', f.amount, 'muted'));
      d.title = Object.entries(f.byKind).map(([k, n]) => k + ': ' + n).join(', ');
      return d;
    }));
    $('stuck-note').textContent = '(submitted or unknown for more than ' + s.stuckAfterMinutes + ' min)';
    fill($('stuck'), s.stuck.map((o) => row([orderLink(o.id), o.key, o.kind, stateEl(o.status), o.amount, timeEl(o.since)], [4])), 'No stuck order.');
    $('loan-states').textContent = s.loansByStatus.map((l) => l.status + ' ' + l.count.toLocaleString('en-US')).join(' · ');
    fill($('loans'), s.loans.map((l) => row([l.id, customerLink(l.customerId), l.principal, l.rail, stateEl(l.status), timeEl(l.createdAt)], [2])), 'No loan yet.');
    $('holds-summary').textContent = s.holds.amount + ' on hold';
    $('holds-detail').textContent = s.holds.open.toLocaleString('en-US') + ' open holds · ' + s.holds.blockedBorrowers.toLocaleString('en-US') + ' borrowers with outflow blocked'
      + (s.holds.mismatched ? ' · ' + s.holds.mismatched + ' where hold and block disagree' : '');
    $('queue-note').textContent = '(' + s.operatorQueue.size + ' waiting' + (s.operatorQueue.deadLetters ? ', ' + s.operatorQueue.deadLetters + ' dead-lettered jobs: lendpay ops queue' : '') + ')';
    fillQueue(s.operatorQueue.items);
    fill($('alerts'), s.alerts.map((a) => row([timeEl(a.at), stateEl(a.severity), a.rule, a.orderId ? (() => { const s2 = el('span', a.message + ' '); s2.appendChild(orderLink(a.orderId, 'order ' + a.orderId)); return s2; })() : a.message])), 'No open alert.');
    again(loadOverview, g, 5000);
  }

  function fillQueue(items) {
    const operator = session.role === 'operator';
    fill($('queue'), items.map((q) => {
      const actions = el('span');
      if (operator) {
        const confirm = el('button', 'Confirm', 'primary'); confirm.type = 'button'; confirm.dataset.action = 'confirm';
        confirm.addEventListener('click', () => act('confirm', q.orderId, {}));
        const reject = el('button', 'Reject', 'danger'); reject.type = 'button'; reject.dataset.action = 'reject';
        reject.addEventListener('click', () => {
          const f = el('form', undefined, 'reject-form');
          const why = el('input'); why.placeholder = 'why reject?'; why.required = true; why.maxLength = 500; why.setAttribute('aria-label', 'reason');
          const ok = el('button', 'Reject', 'danger'); ok.type = 'submit'; ok.dataset.action = 'reject-submit';
          f.append(why, ok);
          f.addEventListener('submit', (ev) => { ev.preventDefault(); if (why.value.trim()) act('reject', q.orderId, { reason: why.value.trim() }); });
          actions.replaceChildren(f); why.focus();
        });
        actions.append(confirm, ' ', reject);
      }
      const tr = row([orderLink(q.orderId), customerLink(q.customerId), q.key, q.amount, stateEl(q.status), q.errorCode, q.step, q.reason, timeEl(q.since), actions], [3]);
      tr.dataset.orderId = String(q.orderId);
      return tr;
    }), 'Nothing waits for an operator.');
  }

  // The actor is the token's name (the server records it); the body never names anyone.
  async function act(action, orderId, body) {
    clearTimeout(timer);
    const out = $('op-result');
    out.textContent = 'order ' + orderId + ': ' + action + '…';
    try {
      const j = await api('/ops/orders/' + encodeURIComponent(orderId) + '/' + action, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      out.textContent = 'order ' + orderId + ': ' + (j.message || (action === 'reject' ? 'rejected' : 'confirmed')) + ' (as ' + session.name + ')';
    } catch (e) {
      if (e instanceof SignedOut) return;
      out.textContent = 'order ' + orderId + ': ' + e.message;
    }
    route();
  }

  // -- holds and blocked borrowers
  let holdsPage = { q: '', sort: 'amount', offset: 0 };
  function holdsHash(p) {
    const u = new URLSearchParams();
    if (p.q) u.set('q', p.q);
    if (p.sort !== 'amount') u.set('sort', p.sort);
    if (p.offset) u.set('offset', String(p.offset));
    const s = u.toString();
    return '#/holds' + (s ? '?' + s : '');
  }
  $('holds-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = holdsHash({ q: $('holds-q').value.trim(), sort: $('holds-sort').value, offset: 0 });
  });
  $('holds-sort').addEventListener('change', () => $('holds-form').requestSubmit());
  $('holds-prev').addEventListener('click', () => { location.hash = holdsHash({ ...holdsPage, offset: Math.max(0, holdsPage.offset - 100) }); });
  $('holds-next').addEventListener('click', () => { location.hash = holdsHash({ ...holdsPage, offset: holdsPage.offset + 100 }); });

  async function loadHolds(params, g) {
    holdsPage = { q: params.get('q') || '', sort: params.get('sort') || 'amount', offset: Number(params.get('offset') || 0) };
    $('holds-q').value = holdsPage.q; $('holds-sort').value = holdsPage.sort;
    const table = $('holds-table');
    loadingRows(table);
    $('holds-totals').textContent = '';
    const u = new URLSearchParams({ sort: holdsPage.sort, limit: '100', offset: String(holdsPage.offset) });
    if (holdsPage.q) u.set('q', holdsPage.q);
    let h;
    try { h = await api('/dashboard/holds?' + u.toString()); } catch (e) { failed(e, g); fill(table, [], 'Could not load the list.'); return; }
    if (g !== generation) return;
    $('holds-totals').textContent = h.totals.openHolds.toLocaleString('en-US') + ' open holds, ' + h.totals.amount + ' · ' + h.totals.blockedBorrowers.toLocaleString('en-US') + ' blocked'
      + (h.totals.mismatched ? ' · ' + h.totals.mismatched + ' disagree' : '');
    fill(table, h.rows.map((r) => {
      const last = r.lastAttempt
        ? (() => { const s = el('span'); s.append(timeEl(r.lastAttempt.at), ' · ', r.lastAttempt.step, ' · ', r.lastAttempt.amount, ' · ', stateEl(r.lastAttempt.status + (r.lastAttempt.errorCode ? ' ' + r.lastAttempt.errorCode : ''), r.lastAttempt.status)); return s; })()
        : el('span', 'none', 'muted');
      const outflow = r.mismatch ? stateEl(r.blocked ? 'blocked, no hold' : 'hold, not blocked', 'mismatch') : r.blocked ? stateEl('blocked') : stateEl('allowed');
      const tr = row([customerLink(r.customerId), r.amount ?? '-', r.since ? timeEl(r.since) : '-', r.days ?? '-', outflow, r.accounts.join(', '), last], [1, 3]);
      tr.className = 'clickable';
      tr.dataset.customerId = r.customerId;
      tr.addEventListener('click', (ev) => { if (!(ev.target instanceof HTMLAnchorElement)) location.hash = '#/customers/' + encodeURIComponent(r.customerId); });
      return tr;
    }), h.q ? 'No hold or blocked borrower matches “' + h.q + '”.' : 'No open hold and no blocked borrower.');
    $('holds-page').textContent = h.total === 0 ? '' : 'showing ' + (h.offset + 1) + '–' + (h.offset + h.rows.length) + ' of ' + h.total.toLocaleString('en-US');
    $('holds-prev').disabled = h.offset === 0;
    $('holds-next').disabled = h.offset + h.rows.length >= h.total;
  }

  // -- charts
  const COLORS = ['#457b9d', '#e76f51', '#2a9d8f', '#e9c46a', '#8d6cab', '#6b7480'];
  const STATE_COLORS = { created: '#adb5bd', submitted: '#e9c46a', unknown: '#f4a261', succeeded: '#2a9d8f', failed: '#e63946', voided: '#6b7480' };
  // Axis labels only (exact amounts come from the server as text): fen → "¥12,345".
  function axisYuan(fen) { return '¥' + Math.round(fen / 100).toLocaleString('en-US'); }

  function drawChart(id, config, hasData) {
    const box = $(id + '-box');
    box.querySelector('.chart').hidden = !hasData;
    box.querySelector('.empty').hidden = hasData;
    const old = charts.get(id);
    if (old) { old.data = config.data; old.options = config.options; old.update('none'); return; }
    if (typeof window.Chart !== 'function') { box.querySelector('.empty').hidden = false; box.querySelector('.empty').textContent = 'The chart library did not load.'; return; }
    charts.set(id, new window.Chart($(id), config));
  }
  function moneyOptions(texts, stacked) {
    return {
      animation: false, responsive: true, maintainAspectRatio: false,
      scales: { x: { stacked }, y: { stacked, beginAtZero: true, ticks: { callback: (v) => axisYuan(v) } } },
      plugins: { tooltip: { callbacks: { label: (c) => c.dataset.label + ': ' + texts[c.datasetIndex][c.dataIndex] } } },
    };
  }
  function dataTable(table, head, rows) {
    const thead = el('thead'); thead.appendChild(row(head));
    const tbody = el('tbody'); for (const r of rows) tbody.appendChild(row(r, r.map((_, i) => i).filter((i) => i > 0)));
    table.replaceChildren(thead, tbody);
  }
  function daySeriesChart(id, tableId, days, series) {
    const has = series.some((s) => s.totalFen > 0);
    drawChart(id, {
      type: 'bar',
      data: { labels: days, datasets: series.map((s, i) => ({ label: s.label, data: s.fen, backgroundColor: COLORS[i % COLORS.length] })) },
      options: moneyOptions(series.map((s) => s.text), true),
    }, has);
    const rows = days.map((d, i) => [d, ...series.map((s) => s.counts[i] ? s.text[i] + ' (' + s.counts[i] + ')' : '-')]).filter((r) => r.slice(1).some((x) => x !== '-'));
    rows.push(['total', ...series.map((s) => s.total)]);
    dataTable($(tableId), ['day', ...series.map((s) => s.label)], has ? rows : []);
  }

  async function loadCharts(g, first) {
    if (first) setStatus('loading charts…', 'loading');
    let c;
    try { c = await api('/dashboard/charts?days=14&hours=24'); } catch (e) { failed(e, g); return; }
    if (g !== generation) return;
    setStatus('charts from ' + c.from + ' to ' + c.to + ' (Asia/Shanghai days); amounts in yuan');
    for (const s of document.querySelectorAll('.chart-window')) s.textContent = '(' + c.from + ' – ' + c.to + ')';
    daySeriesChart('chart-disbursed', 'table-disbursed', c.days, c.disbursed);
    daySeriesChart('chart-collected', 'table-collected', c.days, c.collected);

    const rate = c.collectionRate;
    drawChart('chart-rate', {
      type: 'bar',
      data: {
        labels: rate.map((r) => r.businessDate),
        datasets: [
          { type: 'line', label: 'collection rate', data: rate.map((r) => (r.rate.basisPoints ?? 0) / 100), yAxisID: 'rate', borderColor: '#1d3557', backgroundColor: '#1d3557' },
          { label: 'due', data: rate.map((r) => r.dueFen), backgroundColor: '#adb5bd' },
          { label: 'collected', data: rate.map((r) => r.collectedFen), backgroundColor: '#2a9d8f' },
        ],
      },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, ticks: { callback: (v) => axisYuan(v) } }, rate: { position: 'right', min: 0, max: 100, ticks: { callback: (v) => v + '%' }, grid: { drawOnChartArea: false } } },
        plugins: { tooltip: { callbacks: { label: (ctx) => [rate[ctx.dataIndex].rate.text, rate[ctx.dataIndex].due, rate[ctx.dataIndex].collected][ctx.datasetIndex] } } },
      },
    }, rate.length > 0);
    dataTable($('table-rate'), ['business date', 'loans', 'due', 'collected', 'put on hold', 'rate'], rate.map((r) => [r.businessDate, r.loans, r.due, r.collected, r.held, r.rate.text]));

    const holds = c.holds;
    drawChart('chart-holds', {
      type: 'bar',
      data: {
        labels: holds.map((h) => h.day),
        datasets: [
          { type: 'line', label: 'open at end of day', data: holds.map((h) => h.open), borderColor: '#e63946', backgroundColor: '#e63946' },
          { label: 'opened', data: holds.map((h) => h.opened), backgroundColor: '#f4a261' },
          { label: 'cleared', data: holds.map((h) => h.cleared), backgroundColor: '#2a9d8f' },
        ],
      },
      options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    }, holds.some((h) => h.open || h.opened || h.cleared));
    dataTable($('table-holds'), ['day', 'open at end of day', 'opened', 'cleared'], holds.filter((h) => h.open || h.opened || h.cleared).map((h) => [h.day, h.open, h.opened, h.cleared]));

    const o = c.orders;
    $('orders-window').textContent = '(last ' + o.hours.length + ' hours, Asia/Shanghai)';
    drawChart('chart-orders', {
      type: 'bar',
      data: { labels: o.hours.map((h) => h.label), datasets: o.series.map((s) => ({ label: s.state, data: s.counts, backgroundColor: STATE_COLORS[s.state] || '#6b7480' })) },
      options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    }, o.series.length > 0);
    dataTable($('table-orders'), ['hour', ...o.series.map((s) => s.state)], o.hours.map((h, i) => [h.label, ...o.series.map((s) => s.counts[i])]).filter((r) => r.slice(1).some((n) => n > 0)));
    again(loadCharts, g, 60_000);
  }

  // -- one customer
  async function loadCustomer(id, g) {
    $('c-title').textContent = id; $('c-sub').textContent = '';
    for (const d of ['c-decision', 'c-due', 'c-outflow', 'c-accounts']) $(d).replaceChildren(el('span', 'loading…', 'loading'));
    $('c-loans').replaceChildren(el('p', 'loading…', 'loading'));
    for (const t of ['c-holds', 'c-notifications', 'c-orders']) loadingRows($(t));
    let c;
    try { c = await api('/dashboard/customers/' + encodeURIComponent(id)); } catch (e) {
      if (g !== generation || e instanceof SignedOut) return;
      $('c-body').hidden = true; setStatus(e.status === 404 ? 'No customer ' + id + '.' : 'could not load: ' + e.message, 'error'); return;
    }
    if (g !== generation) return;
    $('c-body').hidden = false;
    $('c-sub').textContent = c.segment + (c.realNameVerified ? ' · real name verified' : ' · real name NOT verified') + (c.whitelist ? ' · whitelist ' + c.whitelist.limit + (c.whitelist.expiresOn ? ' until ' + c.whitelist.expiresOn : '') : '');
    const d = c.decision;
    facts($('c-decision'), d ? [
      ['date', d.businessDate],
      ['decision', stateEl(d.eligible ? 'eligible' : 'ineligible', d.eligible ? 'succeeded' : 'failed')],
      ['door', d.door ?? '-'],
      ['limit', d.limit],
      ['reasons', d.reasons.length ? d.reasons.join(', ') : '-'],
      ['rules', (d.ruleVersion ? 'version ' + d.ruleVersion + ' · ' : '') + d.ruleSet],
      ['decided', timeEl(d.decidedAt)],
    ] : [['decision', 'none yet']]);
    facts($('c-due'), [
      ['due now', stateEl(c.due.now, c.due.nowFen > 0 ? 'due' : 'paid')],
      ['oldest due', c.due.oldestDueDate ? c.due.oldestDueDate + ' (' + c.due.daysOverdue + ' days)' : '-'],
      ['still to pay', c.due.outstanding],
      ['as of', c.due.today],
    ]);
    facts($('c-outflow'), [
      ['outflow', c.outflow.blocked ? stateEl('blocked') : stateEl('allowed')],
      ['since', c.outflow.since ? timeEl(c.outflow.since) : '-'],
      ['open hold', c.outflow.openHold ?? 'none'],
    ]);
    facts($('c-accounts'), [
      ...c.accounts.map((a) => [a.primary ? 'account (primary)' : 'account', a.id]),
      ...c.cards.map((k) => ['card', k.bank + ' ····' + k.last4]),
    ]);
    $('c-loans').replaceChildren(...(c.loans.length ? c.loans.map((l) => {
      const box = el('details', undefined, 'loan'); box.open = true; box.dataset.loanId = l.id;
      const sum = el('summary');
      sum.append(el('b', l.id), ' · ' + l.principal + ' to ' + l.rail + ' ' + l.destinationId + ' · ', stateEl(l.status), ' · created ', timeEl(l.createdAt), ' · due now ' + l.due + ' · still to pay ' + l.outstanding);
      const t = el('table'); t.className = 'schedule';
      t.appendChild((() => { const h = el('thead'); h.appendChild(row(['#', 'due date', 'principal', 'interest', 'paid', 'left', ''], [2, 3, 4, 5])); return h; })());
      const b = el('tbody');
      for (const i of l.schedule) { const tr = row([i.no, i.dueDate, i.principal, i.interest, i.paid, i.left, stateEl(i.state, i.state === 'part paid' ? 'part' : i.state)], [2, 3, 4, 5]); tr.dataset.state = i.state; b.appendChild(tr); }
      t.appendChild(b);
      box.append(sum, t);
      return box;
    }) : [el('p', 'No loan.', 'empty')]));
    fill($('c-holds'), c.holds.map((h) => row([h.id, h.amount, h.asOfDate, stateEl(h.status, h.status === 'open' ? 'blocked' : 'paid'), timeEl(h.openedAt), h.clearedAt ? (() => { const s = el('span'); s.append(timeEl(h.clearedAt), ' by ' + (h.clearedBy ?? '-')); return s; })() : '-', h.days], [1, 6])), 'No hold, ever.');
    fill($('c-notifications'), c.notifications.map((n) => row([timeEl(n.createdAt), n.sentAt ? timeEl(n.sentAt) : stateEl('queued'), n.kind, n.body])), 'No notification sent.');
    fill($('c-orders'), c.orders.map((o) => row([orderLink(o.id), o.key, o.kind, o.step ?? '-', o.amount, stateEl(o.status + (o.errorCode ? ' ' + o.errorCode : ''), o.status), timeEl(o.updatedAt)], [4])), 'No order.');
  }

  // -- one order and its timeline
  async function loadOrder(ref, g) {
    $('o-title').textContent = ref;
    $('o-facts').replaceChildren();
    $('timeline').replaceChildren(el('li', 'loading…', 'loading'));
    let j;
    try { j = await api('/dashboard/orders/' + encodeURIComponent(ref)); } catch (e) {
      if (g !== generation || e instanceof SignedOut) return;
      $('timeline').replaceChildren(el('li', e.status === 404 ? 'No order ' + ref + '.' : 'could not load: ' + e.message, 'error'));
      return;
    }
    if (g !== generation) return;
    const o = j.order;
    $('o-title').textContent = o.id + ' · ' + o.key;
    facts($('o-facts'), [
      ['state', stateEl(o.status + (o.errorCode ? ' (' + o.errorCode + ')' : ''), o.status)],
      ['amount', o.amount],
      ['what', o.kind + ' · ' + o.purpose],
      ['from → to', o.source + ' → ' + o.destination],
      ['customer', customerLink(o.customerId)],
      ['loan', o.loanId ?? '-'],
      ['created', timeEl(o.createdAt)],
      ['last change', timeEl(o.updatedAt)],
      ...(o.arrivesAt ? [['arrives', timeEl(o.arrivesAt)]] : []),
      ...(o.parent ? [[o.parent.sameFlow ? 'replaces' : 'follows', orderLink(o.parent.id, o.parent.id + ' · ' + o.parent.key)]] : []),
    ]);
    $('timeline').replaceChildren(...j.timeline.map((e) => {
      const li = el('li'); li.dataset.kind = e.kind;
      li.append(timeEl(e.at), el('span', e.kind, 'kind'), el('span', e.text));
      return li;
    }));
  }

  // ---- search: an order id or key opens the order; anything else a customer, else an order --
  $('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = $('search').value.trim();
    if (!q) return;
    const target = /^[0-9]+$/.test(q) || q.includes(':') ? '#/orders/' + encodeURIComponent(q) : '#/find/' + encodeURIComponent(q);
    if (location.hash === target) route(); else location.hash = target;
  });

  async function find(q, g) {
    let where = '#/orders/' + encodeURIComponent(q);
    try { await api('/dashboard/customers/' + encodeURIComponent(q)); where = '#/customers/' + encodeURIComponent(q); } catch (e) {
      if (e instanceof SignedOut) return;
      if (e.status !== 404) { failed(e, g); return; }
    }
    if (g !== generation) return;
    history.replaceState(null, '', where);
    route();
  }

  // ---- start ------------------------------------------------------------------------------
  (async () => {
    let saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null'); } catch { saved = null; }
    if (!saved || typeof saved.token !== 'string') { showSignIn(''); return; }
    // the name and role may have changed since: ask again
    const who = await whoIs(saved.token).catch(() => ({ error: 'Could not reach the server.' }));
    if (who.error) { sessionStorage.removeItem(SESSION_KEY); showSignIn(who.error); return; }
    session = { token: saved.token, name: who.name, role: who.role };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    start();
  })();
})();
