// The dashboard page. Everything shown comes from the JSON endpoints and is put into
// the page with textContent only (never innerHTML), so no value can inject markup.
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>lendpay — operations</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f5f6f8; color: #1d232b; }
  header { background: #1d3557; color: #fff; padding: 10px 20px; display: flex; align-items: center; gap: 20px; }
  header h1 { font-size: 18px; margin: 0; }
  header form { margin-left: auto; display: flex; gap: 6px; }
  header input { width: 320px; padding: 5px 8px; border-radius: 4px; border: 0; }
  main { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; padding: 16px 20px; }
  section { background: #fff; border-radius: 6px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #eceef1; font-variant-numeric: tabular-nums; }
  .bar { background: #e6e9ee; border-radius: 3px; height: 10px; min-width: 120px; }
  .bar > div { background: #2a9d8f; height: 10px; border-radius: 3px; }
  .funnel-row { display: grid; grid-template-columns: 90px 1fr 70px; align-items: center; gap: 8px; margin: 4px 0; }
  .funnel-row .bar > div { background: #457b9d; }
  .muted { color: #6b7480; }
  .status-finished, .status-succeeded, .status-disbursed { color: #2a7d2e; }
  .status-failed { color: #b3261e; }
  .status-running, .status-unknown, .status-submitted { color: #a15c00; }
  a { color: #1d5fa8; cursor: pointer; }
  #timeline ol { padding-left: 20px; }
</style>
</head>
<body>
<header>
  <h1>lendpay operations</h1>
  <span id="updated" class="muted"></span>
  <form id="search-form">
    <input id="search" placeholder="order id or idempotency key, e.g. disburse:L1001:payout" autocomplete="off">
    <button type="submit">Open</button>
  </form>
</header>
<main>
  <section class="wide" id="timeline" hidden>
    <h2>Order <span id="tl-title"></span></h2>
    <div id="tl-body"></div>
  </section>
  <section class="wide">
    <h2>Batch runs</h2>
    <table id="runs"><thead><tr><th>run</th><th>kind</th><th>business date</th><th>status</th><th>progress</th><th>chunks</th><th>items</th><th>started</th><th>finished</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Orders by state</h2>
    <div id="funnel"></div>
  </section>
  <section>
    <h2>Stuck orders <span class="muted" id="stuck-note"></span></h2>
    <table id="stuck"><thead><tr><th>order</th><th>key</th><th>kind</th><th>status</th><th>amount</th><th>since</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Loans <span class="muted" id="loan-states"></span></h2>
    <table id="loans"><thead><tr><th>loan</th><th>customer</th><th>principal</th><th>rail</th><th>status</th><th>created</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Holds and blocked borrowers</h2>
    <p id="holds"></p>
  </section>
  <section class="wide">
    <h2>Operator queue <span class="muted" id="queue-note"></span></h2>
    <p class="muted">Operator <input id="op-name" placeholder="your name" size="12"> API token <input id="op-token" type="password" size="16"> (kept in this tab only)</p>
    <table id="queue"><thead><tr><th>order</th><th>key</th><th>amount</th><th>status</th><th>error</th><th>proposed step</th><th>why</th><th>since</th><th></th></tr></thead><tbody></tbody></table>
    <p id="op-result" class="muted"></p>
  </section>
  <section class="wide">
    <h2>Alerts</h2>
    <table id="alerts"><thead><tr><th>when</th><th>severity</th><th>rule</th><th>what</th></tr></thead><tbody></tbody></table>
  </section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = String(text); if (cls) e.className = cls; return e; }
function row(cells) { const tr = document.createElement('tr'); for (const c of cells) { const td = document.createElement('td'); if (c instanceof Node) td.appendChild(c); else td.textContent = c === null || c === undefined ? '' : String(c); tr.appendChild(td); } return tr; }
function when(iso) { return iso ? new Date(iso).toLocaleString() : ''; }
function bar(ratio) { const b = el('div', undefined, 'bar'); const f = el('div'); f.style.width = Math.round(Math.max(0, Math.min(1, ratio)) * 100) + '%'; b.appendChild(f); return b; }
function orderLink(ref, label) { const a = el('a', label ?? ref); a.href = '#order=' + encodeURIComponent(ref); a.addEventListener('click', (ev) => { ev.preventDefault(); openOrder(String(ref)); }); return a; }
function replaceRows(table, rows) { const tb = table.querySelector('tbody'); tb.replaceChildren(...rows); }

async function refresh() {
  let s;
  try { const r = await fetch('/dashboard/summary'); if (!r.ok) throw new Error('HTTP ' + r.status); s = await r.json(); }
  catch (e) { $('updated').textContent = 'update failed: ' + e.message; return; }
  $('updated').textContent = 'updated ' + when(s.now);
  replaceRows($('runs'), s.runs.map((r) => {
    const ratio = r.totalChunks === 0 ? (r.status === 'running' ? 0 : 1) : r.doneChunks / r.totalChunks;
    const tr = row([r.id, r.kind, r.businessDate, el('span', r.status, 'status-' + r.status), bar(ratio), r.doneChunks + ' / ' + r.totalChunks, r.items, when(r.startedAt), when(r.finishedAt)]);
    tr.dataset.runId = String(r.id); return tr;
  }));
  const max = Math.max(1, ...s.funnel.map((f) => f.count));
  $('funnel').replaceChildren(...s.funnel.map((f) => {
    const d = el('div', undefined, 'funnel-row'); d.dataset.state = f.state;
    d.append(el('span', f.state, 'status-' + f.state), bar(f.count / max), el('span', f.count));
    d.title = Object.entries(f.byKind).map(([k, n]) => k + ': ' + n).join(', ');
    return d;
  }));
  $('stuck-note').textContent = '(submitted or unknown for more than ' + s.stuckAfterMinutes + ' min)';
  replaceRows($('stuck'), s.stuck.length ? s.stuck.map((o) => row([orderLink(o.id), o.idempotencyKey, o.kind, el('span', o.status, 'status-' + o.status), o.amount, when(o.updatedAt)])) : [row(['none'])]);
  $('loan-states').textContent = s.loansByStatus.map((l) => l.status + ' ' + l.count).join(' · ');
  replaceRows($('loans'), s.loans.map((l) => row([l.id, l.customerId, l.principal, l.rail, el('span', l.status, 'status-' + l.status), when(l.createdAt)])));
  $('holds').textContent = s.holds.open + ' open holds, ' + s.holds.blockedBorrowers + ' borrowers blocked, ' + s.holds.amount + ' on hold';
  $('queue-note').textContent = '(' + s.operatorQueue.size + ' waiting' + (s.operatorQueue.deadLetters ? ', ' + s.operatorQueue.deadLetters + ' dead-lettered jobs: lendpay ops queue' : '') + ')';
  replaceRows($('queue'), s.operatorQueue.items.length ? s.operatorQueue.items.map((q) => {
    const confirm = el('button', 'confirm'); confirm.dataset.action = 'confirm'; confirm.addEventListener('click', () => act('confirm', q.orderId));
    const reject = el('button', 'reject'); reject.dataset.action = 'reject'; reject.addEventListener('click', () => act('reject', q.orderId));
    const actions = el('span'); actions.append(confirm, reject);
    const tr = row([orderLink(q.orderId), q.key, q.amount, el('span', q.status, 'status-' + q.status), q.errorCode, q.step, q.reason, when(q.since), actions]);
    tr.dataset.orderId = String(q.orderId); return tr;
  }) : [row(['nothing waits for an operator'])]);
  replaceRows($('alerts'), s.alerts.length ? s.alerts.map((a) => row([when(a.at), el('span', a.severity, 'status-' + (a.severity === 'critical' ? 'failed' : 'unknown')), a.rule, a.message])) : [row(['', '', '', 'no open alerts'])]);
}

// Confirm or reject through the API, as lendpay ops confirm|reject does; who decided is recorded.
async function act(action, orderId) {
  const by = $('op-name').value.trim();
  const token = $('op-token').value;
  if (!by) { $('op-result').textContent = 'enter your name first: every operator action records who did it'; return; }
  sessionStorage.setItem('lendpay-operator', by);
  const body = action === 'reject' ? { by, reason: prompt('Why reject order ' + orderId + '?') || '' } : { by };
  if (action === 'reject' && !body.reason) return;
  const r = await fetch('/ops/orders/' + orderId + '/' + action, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token }, body: JSON.stringify(body) });
  const j = await r.json().catch(() => ({}));
  $('op-result').textContent = r.ok ? ('order ' + orderId + ': ' + (j.message || action + 'ed')) : ('order ' + orderId + ': ' + (j.message || ('HTTP ' + r.status)));
  refresh();
}
$('op-name').value = sessionStorage.getItem('lendpay-operator') || '';

async function openOrder(ref) {
  const box = $('timeline'); box.hidden = false;
  $('tl-title').textContent = ref; const body = $('tl-body'); body.replaceChildren(el('p', 'loading…', 'muted'));
  let r;
  try { r = await fetch('/orders/' + encodeURIComponent(ref)); } catch (e) { body.replaceChildren(el('p', 'failed: ' + e.message)); return; }
  const j = await r.json();
  if (!r.ok) { body.replaceChildren(el('p', j.message || ('HTTP ' + r.status), 'status-failed')); return; }
  const o = j.order;
  $('tl-title').textContent = o.id + ' · ' + o.idempotencyKey;
  const facts = el('p', o.kind + ' ' + o.amount + ' · ' + o.source + ' → ' + o.destination + ' · loan ' + (o.loanId || '-') + ' · ');
  facts.appendChild(el('b', o.status, 'status-' + o.status));
  const list = el('ol');
  for (const e of j.timeline) { const li = el('li'); li.dataset.kind = e.kind; li.append(el('span', when(e.at) + ' ', 'muted'), el('span', e.text)); list.appendChild(li); }
  body.replaceChildren(facts, list);
}

$('search-form').addEventListener('submit', (ev) => { ev.preventDefault(); const q = $('search').value.trim(); if (q) openOrder(q); });
if (location.hash.startsWith('#order=')) openOrder(decodeURIComponent(location.hash.slice(7)));
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
`;
