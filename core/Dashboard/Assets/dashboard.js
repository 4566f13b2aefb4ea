// The dashboard: plain JavaScript over the pipeline's HTTP API, charts drawn as SVG. No framework and no build step, so
// the page the host embeds is the page that runs, and it needs nothing from the network beyond the host itself.
// Every section tolerates a route or a field the host does not have (yet): it then says there is nothing to show.
(() => {
  'use strict';

  const API = '/api/';
  const KEY_STORE = 'mlops.adminKey';
  const REFRESH_MS = 5000;
  const RUN_POLL_MS = 1500;
  const state = { model: null, modelView: null, rollbackTo: null, run: null, runTimer: null, driftFeature: null, histogram: null, primaryMetric: null };

  // ---------------------------------------------------------------- DOM helpers (text only: data never becomes markup)
  const $ = (selector) => document.querySelector(selector);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'class') node.className = value;
      else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }

  const SVG_NS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== undefined && value !== null) node.setAttribute(name, String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // A table's rows; with none, one row across the table saying so (when the table has no message of its own).
  function rows(tbody, items, render, empty) {
    if (items.length === 0 && empty) {
      const columns = tbody.closest('table').querySelectorAll('thead th').length || 1;
      tbody.replaceChildren(el('tr', { class: 'none' }, el('td', { colspan: columns, class: 'empty' }, empty)));
      return;
    }
    tbody.replaceChildren(...items.map(render));
  }

  const pill = (text, kind) => el('span', { class: 'pill ' + (kind || '') }, text);

  // How a version's selection metric was measured: "cv5 0.601 ± 0.041" (mean and spread of k folds) or "validation 1.41";
  // named when it is not the table's metric (a version chosen under an earlier primary metric).
  function chosenBy(v, metric) {
    const selection = v.selection;
    const value = (v.validationMetrics || {})[v.primaryMetric];
    const named = v.primaryMetric && v.primaryMetric !== metric ? `${v.primaryMetric} ` : '';
    if (!selection) return value === undefined ? '–' : `validation ${named}${fmt(value)}`;
    const spread = (selection.standardDeviation || {})[v.primaryMetric];
    return `${selection.set} ${named}${fmt(value)}${spread === undefined ? '' : ` ± ${fmt(spread)}`}`;
  }

  // The test value of the primary metric, and its 95% bootstrap interval where the version has one of that metric.
  // A version's test value of one metric (the column's, the same for every row: versions made under another primary
  // metric have this one too), with its interval where the version has one of that metric.
  function testValue(v, metric) {
    const value = fmt((v.testMetrics || {})[metric]);
    const interval = v.testInterval;
    return interval && interval.metric === metric ? `${value} [${fmt(interval.low)}, ${fmt(interval.high)}]` : value;
  }

  function fmt(value) {
    if (value === undefined || value === null || value === '') return '–';
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return String(value);
      if (Number.isInteger(value) && Math.abs(value) < 1e6) return String(value);
      return Math.abs(value) >= 1000 ? value.toFixed(1) : Number(value.toPrecision(4)).toString();
    }
    return String(value);
  }

  // A share (0 to 1) as a percentage with one decimal, as the drift report's notes write it.
  function percent(share) {
    return typeof share === 'number' && Number.isFinite(share) ? (share * 100).toFixed(1) + '%' : '–';
  }

  function when(value) {
    if (!value) return '–';
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) return String(value);
    return date.toISOString().replace('T', ' ').slice(0, 19);
  }

  function duration(ms) {
    if (typeof ms !== 'number') return '–';
    return ms >= 1000 ? (ms / 1000).toFixed(1) + ' s' : Math.round(ms) + ' ms';
  }

  // The first of several names a field may have (the API's JSON is tidied over time; the page reads old and new).
  function pick(object, ...names) {
    if (!object || typeof object !== 'object') return undefined;
    for (const name of names) if (object[name] !== undefined && object[name] !== null) return object[name];
    return undefined;
  }

  function toast(message, bad) {
    const box = $('#toast');
    box.textContent = message;
    box.className = bad ? 'bad' : '';
    box.hidden = false;
    clearTimeout(toast.timer);
    // Long enough to read: a note of a few sentences stays longer than a word.
    toast.timer = setTimeout(() => { box.hidden = true; }, Math.max(bad ? 8000 : 4000, message.length * 60));
  }

  // ---------------------------------------------------------------- HTTP
  async function getJson(path) {
    try {
      const response = await fetch(API + path, { headers: { accept: 'application/json' }, cache: 'no-store' });
      const type = response.headers.get('content-type') || '';
      const body = type.includes('json') ? await response.json() : null;
      return { ok: response.ok, status: response.status, body };
    } catch (error) {
      return { ok: false, status: 0, body: null, error };
    }
  }

  const adminKey = () => sessionStorage.getItem(KEY_STORE) || '';

  function showKeyState() {
    $('#set-key').textContent = adminKey() ? 'admin key: set (clear)' : 'admin key: none';
  }

  // Admin actions go out without a key first, or with the one this tab holds; a 401 or 403 asks for the key and retries.
  async function postAdmin(path, body) {
    for (let attempt = 0; attempt < 3; attempt++) {
      const headers = { 'content-type': 'application/json', accept: 'application/json' };
      if (adminKey()) headers['x-functions-key'] = adminKey();
      const response = await fetch(API + path, { method: 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) });
      if (response.status !== 401 && response.status !== 403) return response;
      const problem = await response.json().catch(() => null);
      const key = await askKey(response.status === 403 ? 'The admin key was refused: ' + (pick(problem, 'detail') || 'wrong key') : 'This action needs the host\'s admin key.');
      if (key === null) return response;
      sessionStorage.setItem(KEY_STORE, key);
      showKeyState();
    }
    throw new Error('the admin key was refused three times');
  }

  function askKey(message) {
    const dialog = $('#key-dialog');
    $('#key-text').textContent = message;
    $('#admin-key').value = '';
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok' && $('#admin-key').value ? $('#admin-key').value : null), { once: true });
      dialog.showModal();
      $('#admin-key').focus();
    });
  }

  function askAction(title, text, withForce) {
    const dialog = $('#action-dialog');
    $('#action-title').textContent = title;
    $('#action-text').textContent = text;
    $('#action-reason').value = '';
    $('#action-force').checked = false;
    $('#action-force-row').hidden = !withForce;
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'
        ? { reason: $('#action-reason').value.trim() || undefined, force: $('#action-force').checked } : null), { once: true });
      dialog.showModal();
      $('#action-reason').focus();
    });
  }

  async function runAction(path, body, done) {
    const response = await postAdmin(path, body);
    const answer = await response.json().catch(() => null);
    if (response.ok) {
      // An answer's note (an approval that the run compares again with a newer production) comes with it.
      const note = pick(answer, 'note');
      toast(note ? `${done}. ${note}` : done);
      await refresh();
    } else {
      toast(`${response.status}: ${pick(answer, 'detail', 'title') || response.statusText}`, true);
    }
  }

  // ---------------------------------------------------------------- charts
  const CHART = { width: 560, height: 220, left: 52, right: 14, top: 12, bottom: 34 };

  function scale(domainMin, domainMax, rangeMin, rangeMax) {
    const span = domainMax - domainMin || Math.abs(domainMax) || 1;
    return (v) => rangeMin + ((v - domainMin) / span) * (rangeMax - rangeMin);
  }

  function niceExtent(values) {
    let min = Math.min(...values), max = Math.max(...values);
    if (min === max) { const pad = Math.abs(min) * 0.1 || 1; min -= pad; max += pad; }
    const pad = (max - min) * 0.08;
    return [min - pad, max + pad];
  }

  function yAxis(root, y, min, max) {
    for (let i = 0; i <= 4; i++) {
      const v = min + ((max - min) * i) / 4;
      const py = y(v);
      root.append(svg('line', { class: 'grid-line', x1: CHART.left, x2: CHART.width - CHART.right, y1: py, y2: py }));
      root.append(svg('text', { x: CHART.left - 6, y: py + 4, 'text-anchor': 'end' }, fmt(v)));
    }
    root.append(svg('line', { class: 'axis', x1: CHART.left, x2: CHART.left, y1: CHART.top, y2: CHART.height - CHART.bottom }));
    root.append(svg('line', { class: 'axis', x1: CHART.left, x2: CHART.width - CHART.right, y1: CHART.height - CHART.bottom, y2: CHART.height - CHART.bottom }));
  }

  // series: [{ name, cls, points: [{ label, value, cls, title }] }] on shared categorical x positions; threshold: a dashed line.
  function lineChart(series, options = {}) {
    const labels = series[0] ? series[0].points.map((p) => p.label) : [];
    const values = series.flatMap((s) => s.points.map((p) => p.value)).filter(Number.isFinite);
    if (Number.isFinite(options.threshold)) values.push(options.threshold);
    const root = svg('svg', { viewBox: `0 0 ${CHART.width} ${CHART.height}`, role: 'img', 'aria-label': options.label || 'line chart' });
    if (values.length === 0) return root;
    const [low, max] = niceExtent(values);
    // Statistics that cannot be negative (distances, p-values) keep an axis that starts at 0.
    const min = values.every((v) => v >= 0) ? Math.max(0, low) : low;
    const y = scale(min, max, CHART.height - CHART.bottom, CHART.top);
    const step = labels.length > 1 ? (CHART.width - CHART.left - CHART.right - 20) / (labels.length - 1) : 0;
    const x = (i) => CHART.left + 10 + (labels.length > 1 ? i * step : (CHART.width - CHART.left - CHART.right) / 2 - 10);
    yAxis(root, y, min, max);
    // At most ten labels, none the same as the one before it, the first and last kept inside the chart.
    const every = Math.max(1, Math.ceil(labels.length / 10));
    let drawn = null;
    labels.forEach((label, i) => {
      if ((i % every !== 0 && i !== labels.length - 1) || label === drawn) return;
      const anchor = labels.length < 2 ? 'middle' : i === 0 ? 'start' : i === labels.length - 1 ? 'end' : 'middle';
      root.append(svg('text', { x: x(i), y: CHART.height - CHART.bottom + 16, 'text-anchor': anchor }, label));
      drawn = label;
    });
    if (Number.isFinite(options.threshold)) {
      root.append(svg('line', { class: 'threshold', x1: CHART.left, x2: CHART.width - CHART.right, y1: y(options.threshold), y2: y(options.threshold) },
        svg('title', {}, `threshold ${fmt(options.threshold)}`)));
    }
    for (const s of series) {
      const pts = s.points.map((p, i) => ({ ...p, i })).filter((p) => Number.isFinite(p.value));
      if (pts.length > 1) root.append(svg('path', { class: 'line ' + (s.cls || ''), d: pts.map((p, k) => `${k ? 'L' : 'M'}${x(p.i).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ') }));
      for (const p of pts) {
        root.append(svg('circle', { class: 'point ' + (p.cls || ''), cx: x(p.i), cy: y(p.value), r: 4 },
          svg('title', {}, p.title || `${s.name ? s.name + ' ' : ''}${p.label}: ${fmt(p.value)}`)));
      }
    }
    return root;
  }

  // items: [{ label, value, cls }], drawn as horizontal bars.
  function barChart(items, options = {}) {
    const barHeight = 20, gap = 6, labelWidth = 190;
    const height = CHART.top + items.length * (barHeight + gap) + 24;
    const root = svg('svg', { viewBox: `0 0 ${CHART.width} ${height}`, role: 'img', 'aria-label': options.label || 'bar chart' });
    const values = items.map((i) => i.value).filter(Number.isFinite);
    if (values.length === 0) return root;
    const min = Math.min(0, ...values), max = Math.max(0, ...values);
    const x = scale(min, max === min ? min + 1 : max, labelWidth, CHART.width - CHART.right - 60);
    items.forEach((item, i) => {
      const top = CHART.top + i * (barHeight + gap);
      root.append(svg('text', { x: labelWidth - 6, y: top + 14, 'text-anchor': 'end' }, item.label.length > 30 ? item.label.slice(0, 29) + '…' : item.label));
      if (!Number.isFinite(item.value)) {
        root.append(svg('text', { x: labelWidth + 4, y: top + 14 }, item.note || 'no value'));
        return;
      }
      const x0 = x(Math.min(0, item.value)), x1 = x(Math.max(0, item.value));
      root.append(svg('rect', { class: 'bar ' + (item.cls || ''), x: x0, y: top, width: Math.max(1, x1 - x0), height: barHeight },
        svg('title', {}, `${item.label}: ${fmt(item.value)}`)));
      root.append(svg('text', { x: x1 + 4, y: top + 14 }, fmt(item.value)));
    });
    if (options.caption) root.append(svg('text', { x: labelWidth, y: height - 6 }, options.caption));
    return root;
  }

  // bins: labels; reference and current: shares or counts per bin (normalised here so the two overlay fairly).
  function histogramChart(bins, reference, current) {
    const norm = (list) => { const total = list.reduce((a, b) => a + (Number(b) || 0), 0) || 1; return list.map((v) => (Number(v) || 0) / total); };
    const ref = norm(reference), cur = norm(current);
    const root = svg('svg', { viewBox: `0 0 ${CHART.width} ${CHART.height}`, role: 'img', 'aria-label': 'reference and current histograms' });
    const max = Math.max(...ref, ...cur, 0.01);
    const y = scale(0, max * 1.08, CHART.height - CHART.bottom, CHART.top);
    yAxis(root, y, 0, max * 1.08);
    const slot = (CHART.width - CHART.left - CHART.right) / Math.max(1, bins.length);
    bins.forEach((label, i) => {
      const x = CHART.left + i * slot;
      const w = Math.max(1, slot - 2);
      root.append(svg('rect', { class: 'hist-ref', x: x + 1, y: y(ref[i] || 0), width: w, height: y(0) - y(ref[i] || 0) }, svg('title', {}, `${label}: reference ${fmt(ref[i])}`)));
      root.append(svg('rect', { class: 'hist-cur', x: x + 1 + w * 0.25, y: y(cur[i] || 0), width: w * 0.5, height: y(0) - y(cur[i] || 0) }, svg('title', {}, `${label}: current ${fmt(cur[i])}`)));
      const every = Math.max(1, Math.ceil(bins.length / 8));
      if (i % every === 0) root.append(svg('text', { x: x + slot / 2, y: CHART.height - CHART.bottom + 16, 'text-anchor': 'middle' }, String(label).slice(0, 10)));
    });
    return root;
  }

  function chartInto(container, chart, emptyText) {
    const node = typeof container === 'string' ? $(container) : container;
    if (!chart || chart.childNodes.length === 0) node.replaceChildren(el('p', { class: 'empty' }, emptyText));
    else node.replaceChildren(chart);
  }

  // ---------------------------------------------------------------- models
  const MAX_MODEL_VIEWS = 25;

  async function refresh() {
    const [models, health] = await Promise.all([getJson('models'), getJson('health')]);
    renderHealth(health);
    const list = models.ok ? pick(models.body, 'models') || [] : [];
    // The list names production only; each model's view has every alias (staging too).
    const views = await Promise.all(list.slice(0, MAX_MODEL_VIEWS).map((m) => getJson('models/' + encodeURIComponent(m.model))));
    views.forEach((view, i) => { if (view.ok) list[i].aliases = pick(view.body, 'aliases') || {}; });
    renderModels(list, health.ok ? health.body : null);
    if (!state.model && models.ok) {
      const fromHash = decodeURIComponent(location.hash.slice(1));
      const list = pick(models.body, 'models') || [];
      const first = list.find((m) => m.model === fromHash) || list[0];
      if (first) state.model = first.model;
    }
    await Promise.all([state.model ? loadModel(state.model) : Promise.resolve(), loadAudit()]);
  }

  function renderHealth(health) {
    const node = $('#health');
    const status = health.ok ? pick(health.body, 'status') || 'healthy' : null;
    node.textContent = health.ok ? `host ${status}` : health.status ? `host answered ${health.status}` : 'host unreachable';
    node.className = 'pill ' + (!health.ok ? 'bad' : status === 'healthy' ? 'good' : 'warn');
  }

  // What this host serves per model: the health route's loaded versions, and any serving fields the model list carries.
  function servingCell(model, health) {
    const production = pick(model, 'production');
    const loaded = (pick(health, 'loaded') || []).filter((l) => l.model === model.model).map((l) => l.version);
    const serving = pick(model, 'serving', 'health');
    if (serving && typeof serving === 'object' && pick(serving, 'status')) return pill(String(pick(serving, 'status')), /fail|error|unavail/i.test(pick(serving, 'status')) ? 'bad' : 'good');
    if (!production) return pill('no production version', 'warn');
    if (loaded.includes(production)) return pill(`serving ${production}`, 'good');
    if (loaded.length) return pill(`serving ${loaded.join(', ')}; production is ${production}`, 'warn');
    return pill(`${production} loads on first request`, 'info');
  }

  function renderModels(list, health) {
    $('#models-empty').hidden = list.length > 0;
    rows($('#models tbody'), list, (m) => el('tr', {
      class: 'clickable' + (m.model === state.model ? ' selected' : ''), 'data-model': m.model,
      onclick: () => { state.model = m.model; state.run = null; state.driftFeature = null; location.hash = encodeURIComponent(m.model); refresh(); },
    },
    el('td', {}, el('strong', {}, m.model), m.pendingApproval ? ' ' : '', m.pendingApproval ? pill(`${m.pendingApproval} awaiting approval`, 'warn') : ''),
    el('td', {}, pick(m, 'production') || '–'),
    el('td', {}, pick(m, 'staging') || (pick(m, 'aliases') || {}).staging || '–'),
    el('td', { class: 'num' }, fmt(typeof m.versions === 'number' ? m.versions : (m.versions || []).length)),
    el('td', { class: 'num' }, m.primaryMetric ? `${m.primaryMetric} ${fmt((m.testMetrics || {})[m.primaryMetric])}` : '–'),
    el('td', {}, servingCell(m, health))));
  }

  async function loadModel(name) {
    const path = 'models/' + encodeURIComponent(name);
    const [view, runs, candidates, uploads, quarantine, drift] = await Promise.all([
      getJson(path), getJson('orchestrations?model=' + encodeURIComponent(name) + '&top=20'), getJson(path + '/runs'),
      getJson(path + '/datasets'), getJson(path + '/quarantine'), getJson(path + '/drift'),
    ]);
    if (name !== state.model) return;
    $('#model-section').hidden = false;
    $('#model-title').textContent = name;
    $('#audit-scope').textContent = 'model ' + name;
    if (!view.ok) {
      $('#model-aliases').replaceChildren(pill(pick(view.body, 'detail') || (view.status === 404 ? 'not found' : `could not be read (${view.status})`), 'warn'));
      state.modelView = null;
      // Nothing known of the model: no rollback to offer.
      state.rollbackTo = null;
      $('#rollback').disabled = true;
    } else {
      state.modelView = view.body;
      renderModel(view.body);
    }
    const runList = runs.ok ? pick(runs.body, 'runs') || [] : [];
    renderRuns(runList, candidates.ok ? pick(candidates.body, 'runs') || [] : []);
    // Quarantined files: from the uploads listing where the host has one, else from the quarantine listing.
    const rejected = uploads.ok ? pick(uploads.body, 'quarantined') : quarantine.ok ? pick(quarantine.body, 'files') : null;
    renderQuarantine(rejected || []);
    renderDrift(drift.ok ? drift.body : null);
    renderLive(view.ok ? view.body : null);
  }

  const versionName = (v) => (typeof v === 'number' ? 'v' + v : String(v));
  const versionNumber = (v) => Number(String(v).replace(/^v/, '')) || 0;

  function renderModel(view) {
    const aliases = pick(view, 'aliases') || {};
    $('#model-aliases').replaceChildren(...Object.entries(aliases).map(([alias, version]) => pill(`${alias}: ${version}`, alias === 'production' ? 'good' : 'info')));
    // Offered only where there is an earlier production version to go back to, named on the button.
    const rollbackTo = pick(view, 'rollbackTo');
    $('#rollback').disabled = !rollbackTo;
    $('#rollback').title = rollbackTo ? `Production goes back to ${rollbackTo}` : 'There is no earlier production version to go back to';
    state.rollbackTo = rollbackTo;
    const dataset = pick(view, 'latestDataset');
    // Production may have been trained on other data than the latest (a duplicate upload made earlier data the latest again).
    const production = (pick(view, 'versions') || []).find((v) => v.version === aliases.production);
    const otherData = dataset && production && production.datasetVersion && production.datasetVersion !== dataset.version
      ? ` · production ${production.version} was trained on ${production.datasetVersion}` : '';
    $('#model-dataset').textContent = dataset
      ? `latest data: ${dataset.version} · ${fmt(dataset.rows)} rows · label ${dataset.label} · ${dataset.task}` + ((dataset.inferred || []).length ? ` · inferred: ${dataset.inferred.join('; ')}` : '') + otherData
      : 'no accepted data yet';

    const versions = [...(pick(view, 'versions') || [])].sort((a, b) => versionNumber(a.version) - versionNumber(b.version));
    const metric = versions.length ? versions[versions.length - 1].primaryMetric : null;
    state.primaryMetric = metric;
    $('#versions-metric').textContent = metric || 'metric';
    const aliasesOf = (version) => Object.entries(aliases).filter(([, v]) => v === version).map(([a]) => a);
    rows($('#versions tbody'), [...versions].reverse(), (v) => el('tr', { 'data-version': v.version },
      el('td', {}, el('strong', {}, v.version)),
      el('td', {}, when(v.createdAt)),
      el('td', {}, v.trainer || '–'),
      el('td', { class: 'selection' }, chosenBy(v, metric)),
      el('td', {}, pill(v.status || '–', v.status === 'rejected' || v.status === 'archived' ? 'bad' : v.status === 'pendingApproval' ? 'warn' : ''),
        v.integrityFailed ? ' ' : '', v.integrityFailed ? pill('integrity check failed', 'bad') : ''),
      el('td', { class: 'num test', title: v.measuredOn ? `on ${fmt(v.measuredOn.rows)} ${v.measuredOn.set} rows` : '' }, testValue(v, metric)),
      el('td', {}, ...aliasesOf(v.version).map((a) => pill(a, a === 'production' ? 'good' : 'info'))),
      el('td', {}, aliases.production === v.version ? '' : el('button', {
        type: 'button', class: 'small promote', 'data-version': v.version,
        onclick: () => promote(view.model || state.model, v.version),
      }, 'Promote'))),
    'No versions yet: a run registers one when its winner passes the quality gate.');

    const chart = lineChart([{
      name: metric,
      points: versions.map((v) => ({
        label: v.version, value: (v.testMetrics || {})[metric], cls: aliases.production === v.version ? 'production' : '',
        title: `${v.version} (${v.trainer}): ${metric} ${fmt((v.testMetrics || {})[metric])}`,
      })),
    }], { label: `${metric} across versions` });
    $('#metric-chart-title').textContent = metric ? `${metric} on the test split, across versions` : 'Primary metric across versions';
    chartInto('#metric-chart', versions.length ? chart : null, 'No versions yet.');

    const history = [...(pick(view, 'history') || [])].reverse();
    rows($('#history tbody'), history, (h) => el('tr', {},
      el('td', {}, when(h.at)), el('td', {}, h.alias), el('td', {}, h.from || '–'), el('td', {}, h.to || '–'), el('td', {}, h.by || '–'), el('td', {}, h.reason || '')),
    'No alias has moved yet: production and staging are set when a version is promoted or staged.');
  }

  async function promote(model, version) {
    const answer = await askAction(`Promote ${version} of ${model}`, `Production moves to ${version}; the move is audited.`, true);
    if (!answer) return;
    await runAction(`models/${encodeURIComponent(model)}/promote`, { version, reason: answer.reason, force: answer.force || undefined }, `${model}: ${version} is in production`);
  }

  async function rollback() {
    const model = state.model;
    const answer = await askAction(`Roll back ${model}`, `Production goes back to ${state.rollbackTo}, the version it held before the current one; the move is audited.`, false);
    if (!answer) return;
    await runAction(`models/${encodeURIComponent(model)}/rollback`, answer.reason ? { reason: answer.reason } : undefined, `${model}: rolled back`);
  }

  // ---------------------------------------------------------------- runs and candidates
  const stageOf = (run) => pick(run.customStatus, 'stage');
  const isRunning = (run) => ['Running', 'Pending', 'Suspended'].includes(run.runtimeStatus);

  function shortRunId(id) {
    const prefix = `train-${state.model}-`;
    const rest = state.model && id.startsWith(prefix) ? id.slice(prefix.length) : id;
    // A run started over HTTP is named by 32 hex digits: the first 8 tell runs apart (the whole id is the cell's title).
    if (/^[0-9a-f]{32}$/.test(rest)) return rest.slice(0, 8) + '…';
    return rest.length > 34 ? '…' + rest.slice(-32) : rest;
  }

  function renderRuns(runs, candidates) {
    $('#runs-empty').hidden = runs.length > 0;
    rows($('#runs tbody'), runs, (r) => el('tr', {
      class: 'clickable' + (r.instanceId === state.run ? ' selected' : ''), 'data-run': r.instanceId,
      onclick: () => { state.run = r.instanceId; loadRun(); },
    },
    // The model is the one selected: its runs are named without their common "train-{model}-" prefix.
    el('td', { title: r.instanceId, class: 'nowrap' }, shortRunId(r.instanceId)),
    el('td', {}, when(r.createdTime)),
    el('td', {}, pill(r.runtimeStatus, r.runtimeStatus === 'Completed' ? 'good' : r.runtimeStatus === 'Failed' ? 'bad' : 'info')),
    el('td', { title: pick(r.customStatus, 'detail') || '' }, pick(r.customStatus, 'stage') || '–'),
    el('td', {}, pick(r.output, 'status') || (r.failureDetails ? 'failed' : '–'))));
    state.candidates = candidates;
    if (!state.run && runs.length) state.run = (runs.find(isRunning) || runs[0]).instanceId;
    if (state.run) loadRun();
    else $('#run-card').hidden = true;
  }

  async function loadRun() {
    clearTimeout(state.runTimer);
    const id = state.run;
    if (!id) return;
    const model = state.model;
    const [status, candidates] = await Promise.all([
      getJson('orchestrations/' + encodeURIComponent(id)),
      getJson('models/' + encodeURIComponent(model) + '/runs?orchestrationId=' + encodeURIComponent(id)),
    ]);
    if (id !== state.run || model !== state.model) return;
    if (!status.ok) { $('#run-card').hidden = true; return; }
    renderRun(status.body, candidates.ok ? pick(candidates.body, 'runs') || [] : state.candidates || []);
    if (isRunning(status.body)) state.runTimer = setTimeout(loadRun, RUN_POLL_MS);
  }

  function renderRun(run, experimentRuns) {
    $('#run-card').hidden = false;
    document.querySelectorAll('#runs tbody tr').forEach((tr) => tr.classList.toggle('selected', tr.dataset.run === run.instanceId));
    $('#run-title').textContent = 'Run ' + run.instanceId;
    const progress = run.customStatus || {};
    const stage = stageOf(run);
    const running = isRunning(run);
    let share = 1, label;
    if (running) {
      const total = pick(progress, 'total') || 0, done = pick(progress, 'completed') || 0;
      // The run's own share of the whole, as the host works it out for every stage (the command line shows the same).
      share = pick(progress, 'share') ?? 0;
      label = total > 0 ? `${stage}: ${done} of ${total} candidates` : (stage || run.runtimeStatus);
    } else {
      const outcome = pick(run.output, 'status');
      const stopped = pick(progress, 'stoppedDuring');
      label = run.failureDetails ? 'failed: ' + run.failureDetails.errorMessage
        : run.runtimeStatus === 'Terminated' ? `terminated${stopped ? ' during ' + stopped : ''}${typeof run.output === 'string' ? ': ' + run.output : ''}`
        : `${run.runtimeStatus}${outcome ? ': ' + outcome : ''}${pick(run.output, 'version') ? ' ' + run.output.version : ''}`;
    }
    $('#run-progress .bar').style.width = Math.round(share * 100) + '%';
    $('#run-progress .label').textContent = label;
    $('#run-progress').dataset.stage = stage || '';
    const awaiting = running && stage === 'awaitingApproval';
    $('#approve').hidden = !awaiting;
    $('#reject').hidden = !awaiting;
    const notes = pick(run.output, 'notes') || [];
    $('#run-notes').textContent = notes.join(' ');

    // Candidates: the experiment runs of this orchestration (live while it trains), else the outcome's summary.
    let list = experimentRuns.filter((c) => c.orchestrationId === run.instanceId).map((c) => ({
      runId: c.runId, name: c.trainer, parameters: c.parameters, status: c.status, metrics: c.validationMetrics || c.metrics || {}, duration: c.durationMs, host: c.host, error: c.error,
      cost: (c.selection || {}).scoringCost, version: c.version,
    }));
    if (list.length === 0) {
      list = (pick(run.output, 'candidates') || []).map((c) => ({
        runId: pick(c, 'runId'), name: pick(c, 'trainer', 'candidate'), parameters: pick(c, 'parameters'), status: c.succeeded ? 'succeeded' : 'failed', metrics: c.validationMetrics || {}, error: c.error,
        cost: (c.selection || {}).scoringCost,
      }));
    }
    const metric = state.primaryMetric || Object.keys((list.find((c) => Object.keys(c.metrics).length) || { metrics: {} }).metrics)[0];
    $('#candidates-metric').textContent = metric ? metric + ' (validation)' : 'metric';
    // The winner by its run id (runs before it was recorded: by the trainer's name). A run waiting at its approval gate
    // has no output yet: its winner is the candidate it registered.
    const winnerRunId = pick(run.output, 'winnerRunId');
    const winner = pick(run.output, 'winner');
    const won = (c) => winnerRunId ? c.runId === winnerRunId : winner ? String(winner).startsWith(c.name) : awaiting && Boolean(c.version);
    rows($('#candidates tbody'), list, (c) => el('tr', { 'data-run': c.runId || '' },
      el('td', {}, c.name, won(c) ? ' ' : '', won(c) ? pill('winner', 'good') : '', c.version ? ' ' : '', c.version ? pill('registered as ' + c.version, '') : ''),
      el('td', {}, c.parameters && Object.keys(c.parameters).length ? Object.entries(c.parameters).map(([k, v]) => `${k}=${fmt(v)}`).join(', ') : '–'),
      el('td', { title: c.error || '' }, pill(c.status || '–', /fail/i.test(c.status) ? 'bad' : c.status === 'cancelled' ? 'warn' : '')),
      el('td', { class: 'num' }, fmt(c.metrics[metric])),
      el('td', { class: 'num cost' }, Number.isFinite(c.cost) ? Math.round(c.cost).toLocaleString('en') : '–'),
      el('td', { class: 'num' }, duration(c.duration)),
      el('td', {}, c.host || '–')));
    // The winner's bar is green, as its row's pill: the run may pick a cheaper candidate within simplerWithin of the best.
    chartInto('#candidate-chart', list.length ? barChart(list.map((c) => ({
      label: c.name + (c.parameters && Object.keys(c.parameters).length ? ' ' + Object.values(c.parameters).map(fmt).join('/') : ''),
      // A candidate of a terminated run is drawn grey, kept or not: it could not win.
      value: c.metrics[metric], cls: !Number.isFinite(c.metrics[metric]) || c.status === 'cancelled' ? 'failed' : won(c) ? 'best' : '', note: c.status === 'cancelled' ? 'cancelled' : c.error ? 'failed' : 'no value',
    })), { label: 'candidates by ' + metric, caption: !metric ? '' : list.some(won) ? `${metric} on the validation split; the winner in green` : `${metric} on the validation split; no winner chosen` }) : null, running ? 'Candidates appear as they finish.' : 'No candidates recorded.');
  }

  async function decide(approved) {
    const id = state.run;
    const answer = await askAction(`${approved ? 'Approve' : 'Reject'} ${pick(state.modelView, 'model') || ''}`, `The run ${id} waits for a decision.`, false);
    if (!answer) return;
    await runAction(`orchestrations/${encodeURIComponent(id)}/${approved ? 'approve' : 'reject'}`, answer.reason ? { reason: answer.reason } : undefined, approved ? 'approved' : 'rejected');
    loadRun();
  }

  // ---------------------------------------------------------------- drift
  // The drift route's reports, newest first: per feature the method's statistic, its threshold and the verdict; the
  // prediction's drift beside them. The histograms of the chosen feature come from the drift histogram route.
  function driftReports(body) {
    if (!body) return [];
    const list = Array.isArray(body) ? body : pick(body, 'reports', 'items') || [];
    return list.filter((r) => r && typeof r === 'object');
  }

  function driftFeatures(report) {
    const raw = pick(report, 'features') || [];
    const list = Array.isArray(raw) ? [...raw] : Object.entries(raw).map(([name, f]) => ({ name, ...f }));
    const prediction = pick(report, 'prediction');
    if (prediction) list.push({ ...prediction, name: pick(prediction, 'name') || 'prediction', isPrediction: true });
    return list.map((f) => ({
      name: pick(f, 'name', 'feature', 'column'),
      value: Number(pick(f, 'statistic', 'score', 'value')),
      pValue: pick(f, 'pValue'),
      threshold: Number(pick(f, 'threshold')),
      method: pick(f, 'method'),
      drifted: !!pick(f, 'drifted'),
      note: pick(f, 'note'),
      missing: pick(f, 'missing'),
      isPrediction: !!f.isPrediction,
    })).filter((f) => f.name);
  }

  const STATUS_KIND = { drift: 'bad', noDrift: 'good' };

  function renderDrift(body) {
    const box = $('#drift');
    const reports = driftReports(body);
    if (reports.length === 0) {
      box.replaceChildren(el('p', { class: 'empty' }, 'No drift reports yet.'));
      return;
    }
    const ordered = [...reports].reverse(); // oldest first for the time axis
    const latest = reports[0];
    const byFeature = new Map();
    ordered.forEach((report, i) => {
      for (const f of driftFeatures(report)) {
        if (!byFeature.has(f.name)) byFeature.set(f.name, { name: f.name, points: new Array(ordered.length).fill(NaN), threshold: f.threshold, method: f.method, isPrediction: f.isPrediction });
        const entry = byFeature.get(f.name);
        entry.points[i] = f.value;
        if (Number.isFinite(f.threshold)) entry.threshold = f.threshold;
        if (f.method) entry.method = f.method;
      }
    });
    const labels = ordered.map((r) => when(pick(r, 'checkedAt')).slice(5, 16));
    // A check without a verdict (no traffic, not enough rows) compares no feature: the newest one that did stays in view.
    const verdict = reports.find((r) => driftFeatures(r).length > 0);
    const latestFeatures = verdict ? driftFeatures(verdict) : [];
    if (!state.driftFeature || !byFeature.has(state.driftFeature)) {
      state.driftFeature = (latestFeatures.find((f) => f.drifted && !f.isPrediction) || latestFeatures.find((f) => !f.isPrediction) || latestFeatures[0] || {}).name;
    }
    const choose = (name) => { state.driftFeature = name; renderDrift(body); };
    const chosen = byFeature.get(state.driftFeature);
    const status = pick(latest, 'status') || 'checked';
    const dataset = pick(latest, 'dataset');
    const retraining = pick(latest, 'retraining');
    const concept = pick(latest, 'concept');
    box.replaceChildren(
      el('p', {}, pill(status, STATUS_KIND[status] || 'warn'), ' ', pick(latest, 'message') || ''),
      el('p', { class: 'muted' },
        `checked ${when(pick(latest, 'checkedAt'))} (${pick(latest, 'trigger') || '?'})`,
        ` · ${fmt(pick(latest, 'currentRows'))} of ${fmt(pick(latest, 'loggedRows'))} logged rows` +
          (pick(latest, 'referenceRows') === undefined ? '' : ` against ${fmt(pick(latest, 'referenceRows'))} reference rows`),
        dataset ? ` · ${dataset.driftedFeatures} of ${dataset.features} features drifted (threshold share ${fmt(dataset.threshold)})` : '',
        pick(latest, 'consecutiveRequired') ? ` · ${fmt(pick(latest, 'consecutive'))} of ${fmt(pick(latest, 'consecutiveRequired'))} drifted checks in a row` : '',
        retraining ? ` · retraining: ${retraining.started ? 'started ' + (retraining.instanceId || '') : 'not started'} (${retraining.reason})` : '',
        concept ? ` · concept: ${concept.message}` : ''),
      verdict && verdict !== latest ? el('p', { id: 'drift-last-verdict' }, 'Last verdict: ', pill(pick(verdict, 'status') || 'checked', STATUS_KIND[pick(verdict, 'status')] || 'warn'),
        ` ${when(pick(verdict, 'checkedAt'))}: ${pick(verdict, 'message') || ''} The features below are from that check.`) : '',
      latestFeatures.length ? el('table', { class: 'grid', id: 'drift-features' },
        el('thead', {}, el('tr', {}, el('th', {}, 'feature'), el('th', {}, 'method'), el('th', {}, 'statistic'), el('th', {}, 'p-value'), el('th', {}, 'threshold'), el('th', { title: 'share of rows without a value: training → live' }, 'missing'), el('th', {}, 'verdict'))),
        el('tbody', {}, ...latestFeatures.map((f) => el('tr', { class: 'clickable' + (f.name === state.driftFeature ? ' selected' : ''), 'data-feature': f.name, onclick: () => choose(f.name) },
          el('td', {}, f.name), el('td', {}, f.method || '–'), el('td', { class: 'num' }, fmt(f.value)), el('td', { class: 'num' }, fmt(f.pValue)), el('td', { class: 'num' }, fmt(f.threshold)),
          el('td', { class: 'num' + (f.missing && f.missing.drifted ? ' missing-drifted' : '') }, f.missing ? `${percent(f.missing.referenceShare)} → ${percent(f.missing.currentShare)}` : '–'),
          el('td', { title: f.note || '' }, pill(f.drifted ? 'drifted' : 'stable', f.drifted ? 'bad' : 'good')))))) : '',
      chosen ? el('p', {}, 'feature ', el('select', { id: 'drift-feature', onchange: (e) => choose(e.target.value) },
        ...[...byFeature.keys()].map((name) => el('option', { value: name, selected: name === state.driftFeature }, name)))) : '',
      chosen ? el('h3', {}, `${chosen.name}: ${chosen.method || 'statistic'} per check, with its threshold`) : '',
      chosen ? el('div', { class: 'chart', id: 'drift-chart' }, lineChart([{ name: chosen.name, points: chosen.points.map((v, i) => ({ label: labels[i], value: v })) }],
        { threshold: chosen.threshold, label: `drift of ${chosen.name} over time` })) : '',
      el('div', { id: 'drift-histogram-box' }));
    if (chosen && !chosen.isPrediction) loadHistogram(state.model, chosen.name, pick(latest, 'checkId'));
    else if (chosen) $('#drift-histogram-box').replaceChildren(el('p', { class: 'empty' }, 'Histograms are drawn for input features.'));
  }

  // The chosen feature's reference and current histograms of the newest check (kept until the check or feature changes).
  async function loadHistogram(model, feature, checkId) {
    const key = `${model}|${feature}|${checkId}`;
    if (state.histogram && state.histogram.key === key) { drawHistogram(state.histogram.answer); return; }
    const answer = await getJson(`models/${encodeURIComponent(model)}/drift/histogram?feature=${encodeURIComponent(feature)}`);
    if (state.model !== model || state.driftFeature !== feature) return;
    state.histogram = { key, answer };
    drawHistogram(answer);
  }

  function drawHistogram(answer) {
    const box = $('#drift-histogram-box');
    if (!box) return;
    if (!answer.ok) {
      box.replaceChildren(el('p', { class: 'empty' }, pick(answer.body, 'detail') || 'No histograms for this feature.'));
      return;
    }
    const h = answer.body;
    box.replaceChildren(
      el('h3', {}, `${h.feature}: reference and current distributions`),
      el('div', { class: 'legend' },
        el('span', {}, el('i', { class: 'swatch-ref' }), `reference (dataset ${h.datasetVersion || '?'})`),
        el('span', {}, el('i', { class: 'swatch-cur' }), `current (live inputs${h.currentMissing ? `, ${h.currentMissing} missing` : ''}` +
          `${h.currentBelow ? `, ${h.currentBelow} below the first bin's edge, counted in it` : ''}` +
          `${h.currentAbove ? `, ${h.currentAbove} above the last bin's edge, counted in it` : ''})`)),
      el('div', { class: 'chart', id: 'drift-histogram' }, histogramChart(h.bins || [], h.reference || [], h.current || [])));
  }

  // ---------------------------------------------------------------- live metrics
  // The model view's live metrics: per version that answered, its logged predictions, how many got feedback and its
  // metrics on those; per shadow pairing, agreement and metric deltas.
  function renderLive(view) {
    const box = $('#live');
    const live = pick(view, 'live', 'liveMetrics');
    const versions = (Array.isArray(live) ? live : pick(live, 'versions') || []).filter((v) => v && typeof v === 'object');
    const shadow = (pick(live, 'shadow') || []).filter((v) => v && typeof v === 'object');
    const labelled = versions.filter((v) => (pick(v, 'labelled') || 0) > 0 || Object.keys(pick(v, 'metrics') || {}).length);
    if (versions.length === 0) {
      box.replaceChildren(el('p', { class: 'empty' }, 'No live metrics yet: they appear once predictions are logged and feedback is posted for them.'));
      return;
    }
    const names = [...new Set(versions.flatMap((v) => Object.keys(pick(v, 'metrics') || {})))];
    const parts = [
      live && pick(live, 'from') ? el('p', { class: 'muted' }, `${when(live.from)} to ${when(live.to)}`) : '',
      el('table', { class: 'grid', id: 'live-metrics' },
        el('thead', {}, el('tr', {}, el('th', {}, 'version'), el('th', {}, 'predictions'), el('th', {}, 'with feedback'), ...names.map((n) => el('th', {}, n)))),
        el('tbody', {}, ...versions.map((v) => el('tr', {},
          el('td', {}, pick(v, 'version') || '?'), el('td', { class: 'num' }, fmt(pick(v, 'predictions'))), el('td', { class: 'num' }, fmt(pick(v, 'labelled'))),
          ...names.map((n) => el('td', { class: 'num' }, fmt((pick(v, 'metrics') || {})[n]))))))),
    ];
    if (labelled.length === 0) parts.push(el('p', { class: 'empty' }, `No feedback yet: POST ground truth to /api/models/${encodeURIComponent(state.model)}/feedback to see live metrics.`));
    if (shadow.length) {
      parts.push(el('h3', {}, 'Shadow'), el('table', { class: 'grid', id: 'shadow' },
        el('thead', {}, el('tr', {}, el('th', {}, 'production'), el('th', {}, 'shadow'), el('th', {}, 'rows'), el('th', {}, 'agreement'), el('th', {}, 'mean |Δ score|'), el('th', {}, 'metric deltas'))),
        el('tbody', {}, ...shadow.map((c) => el('tr', {},
          el('td', {}, c.version), el('td', {}, c.shadowVersion), el('td', { class: 'num' }, fmt(c.scored ?? c.rows)),
          el('td', { class: 'num' }, fmt(c.agreement)), el('td', { class: 'num' }, fmt(c.meanAbsoluteDifference)),
          el('td', {}, Object.entries(c.delta || {}).map(([k, v]) => `${k} ${v > 0 ? '+' : ''}${fmt(v)}`).join(', ') || '–'))))));
    }
    box.replaceChildren(...parts);
  }

  // ---------------------------------------------------------------- quarantine and audit
  function renderQuarantine(files) {
    const box = $('#quarantine');
    if (files.length === 0) { box.replaceChildren(el('p', { class: 'empty' }, 'No quarantined files.')); return; }
    box.replaceChildren(el('table', { class: 'grid', id: 'quarantine-files' },
      el('thead', {}, el('tr', {}, el('th', {}, 'when'), el('th', {}, 'file'), el('th', {}, 'reason'))),
      el('tbody', {}, ...files.map((f) => el('tr', {},
        el('td', {}, when(pick(f, 'quarantinedAt', 'at'))),
        el('td', {}, pick(f, 'blob', 'file', 'name') || '–'),
        el('td', {}, el('strong', {}, (pick(f, 'reasonCodes') || []).join(', ')), ' ', pick(f, 'reason') || '',
          (pick(f, 'problems') || []).length ? el('details', {}, el('summary', {}, 'row problems'),
            el('pre', {}, f.problems.map((p) => `${p.code}: ${p.count} row(s)${(p.details || []).length ? ', e.g. ' + p.details[0] : ''}`).join('\n'))) : ''))))));
  }

  async function loadAudit() {
    const query = state.model ? 'audit?max=50&model=' + encodeURIComponent(state.model) : 'audit?max=50';
    const audit = await getJson(query);
    const records = audit.ok ? pick(audit.body, 'records', 'items') || [] : [];
    const details = (d) => {
      if (d === undefined || d === null || d === '') return '';
      let value = d;
      if (typeof d === 'string') { try { value = JSON.parse(d); } catch { return d; } }
      if (value && typeof value === 'object') return Object.entries(value).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ');
      return String(value);
    };
    rows($('#audit tbody'), records, (r) => el('tr', {},
      el('td', {}, when(r.at)), el('td', {}, pill(r.action, /reject|quarantine|fail|rollback/i.test(r.action) ? 'warn' : '')), el('td', {}, r.model), el('td', {}, r.actor), el('td', {}, r.reason || ''), el('td', {}, details(r.details))),
    'No audit records match.');
  }

  // ---------------------------------------------------------------- start
  $('#rollback').addEventListener('click', rollback);
  $('#approve').addEventListener('click', () => decide(true));
  $('#reject').addEventListener('click', () => decide(false));
  $('#set-key').addEventListener('click', async () => {
    if (adminKey()) { sessionStorage.removeItem(KEY_STORE); showKeyState(); return; }
    const key = await askKey('The key is sent with admin actions (promote, rollback, approve, reject) from this tab only.');
    if (key !== null) sessionStorage.setItem(KEY_STORE, key);
    showKeyState();
  });
  showKeyState();
  refresh().then(() => { document.body.dataset.loaded = 'true'; });
  setInterval(() => { if (!document.querySelector('dialog[open]')) refresh(); }, REFRESH_MS);
})();
