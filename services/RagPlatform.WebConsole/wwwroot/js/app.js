import { api, apiKey, ApiError, whenUnauthorized } from './api.js';
import { apply, language, onChange, t, toggle } from './i18n.js';
import { appendHighlighted, queryTerms } from './highlight.js';

const $ = (selector) => document.querySelector(selector);

/** An element with text content and attributes, children appended. */
function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name === 'text') element.textContent = value;
    else element.setAttribute(name, value === true ? '' : value);
  }
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

const numberFormat = () => new Intl.NumberFormat(language());
const formatNumber = (value) => numberFormat().format(value);
const formatTime = (iso) => (iso ? new Date(iso).toLocaleString(language()) : '');

// ---- status line and the API key prompt ----------------------------------------------------------------------

let statusMessage = null; // { key, values, kind } so it is relabelled on a language change

function showStatus(key, values = {}, kind = 'info') {
  statusMessage = key ? { key, values, kind } : null;
  renderStatus();
}

function renderStatus() {
  const status = $('#status');
  status.textContent = statusMessage ? t(statusMessage.key, statusMessage.values) : '';
  status.dataset.kind = statusMessage?.kind ?? '';
}

/** Reports a failed call where the user sees it; a missing or refused key opens the key prompt instead. */
function report(error) {
  if (!(error instanceof ApiError)) {
    showStatus('error.http', { status: '?', detail: String(error) }, 'error');
  } else if (error.status === 401) {
    // whenUnauthorized has opened the prompt.
  } else if (error.status === 0) {
    showStatus('error.network', { message: error.detail }, 'error');
  } else if (error.status === 403) {
    showStatus('error.forbidden', { detail: error.detail }, 'error');
  } else {
    showStatus('error.http', { status: error.status, detail: error.detail }, 'error');
  }
}

function openKeyPanel(reasonKey, detail = '') {
  const panel = $('#key-panel');
  $('#key-detail').textContent = detail; // the server's own words, e.g. that it serves loopback clients only
  panel.hidden = false;
  $('#key-reason').dataset.i18n = reasonKey;
  $('#key-reason').textContent = t(reasonKey);
  $('#key-input').focus();
}

whenUnauthorized((error) => {
  showStatus(null);
  openKeyPanel(apiKey.get() ? 'key.invalid' : 'key.explain', error.detail);
  stopPolling();
});

$('#key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  apiKey.set($('#key-input').value);
  $('#key-input').value = '';
  $('#key-panel').hidden = true;
  showStatus('key.saved');
  refreshActiveTab();
  resumeJobs();
});

$('#key-forget').addEventListener('click', () => {
  apiKey.clear();
  $('#key-input').value = '';
  showStatus('key.forgotten');
});

$('#key-button').addEventListener('click', () => {
  const panel = $('#key-panel');
  if (panel.hidden) openKeyPanel('key.explain');
  else panel.hidden = true;
});

// ---- tabs ------------------------------------------------------------------------------------------------------

let features = { ingestion: false };
let activeTab = null;

function selectTab(name) {
  activeTab = name;
  for (const button of document.querySelectorAll('[data-tab]')) {
    button.setAttribute('aria-selected', String(button.dataset.tab === name));
  }
  for (const panel of document.querySelectorAll('.tab-panel')) {
    panel.hidden = panel.id !== `tab-${name}`;
  }
  refreshActiveTab();
}

function refreshActiveTab() {
  if (activeTab === 'collections') loadCollections();
  else if (features.ingestion) loadCollectionNames();
}

for (const button of document.querySelectorAll('[data-tab]')) {
  button.addEventListener('click', () => selectTab(button.dataset.tab));
}

// ---- collections -----------------------------------------------------------------------------------------------

let collections = [];

async function loadCollections() {
  try {
    collections = (await api.collections()).collections;
  } catch (error) {
    report(error);
    return;
  }
  renderCollections();
  fillCollectionNames();
}

async function loadCollectionNames() {
  try {
    collections = (await api.collections()).collections;
    fillCollectionNames();
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) report(error);
  }
}

function renderCollections() {
  const body = $('#collections-table tbody');
  body.replaceChildren(...collections.map((c) => {
    const settings = c.settings ?? {};
    const provider = settings.embedding?.provider ?? '';
    const name = el('td', { class: 'name' }, el('strong', { text: c.name }));
    if (c.reindex) {
      name.append(el('div', { class: 'muted', text: t('collections.reindex', { state: c.reindex.state, processed: c.reindex.processed, total: c.reindex.total }) }));
    }
    return el('tr', { 'data-collection': c.name },
      name,
      el('td', { class: 'num', 'data-stat': 'documents', text: formatNumber(c.documents) }),
      el('td', { class: 'num', 'data-stat': 'chunks', text: formatNumber(c.chunks) }),
      el('td', { class: 'num', 'data-stat': 'embedded', text: formatNumber(c.embedded) }),
      el('td', { class: 'num', 'data-stat': 'pending', text: formatNumber(c.pending) }),
      el('td', { class: 'num', text: `${c.version} (v${c.activeVersion ?? 1})` }),
      el('td', {}, el('div', { text: provider }), el('div', { class: 'muted small', text: c.modelFingerprint ?? '' })),
      el('td', { text: settings.vectorBackend ?? '' }),
      el('td', { class: 'small', text: formatTime(c.updatedAt) }));
  }));
  $('#collections-empty').hidden = collections.length > 0;
}

function fillCollectionNames() {
  const names = new Set(collections.map((c) => c.name));
  for (const name of JSON.parse(sessionStorage.getItem('rag.console.recent') ?? '[]')) names.add(name);
  $('#collection-names').replaceChildren(...[...names].sort().map((name) => el('option', { value: name })));
  const first = collections[0]?.name ?? [...names][0];
  for (const input of ['#search-collection', '#context-collection', '#upload-collection']) {
    if (!$(input).value && first) $(input).value = first;
  }
}

/** Collection names typed by hand (the query API cannot list them) are offered again in this session. */
function remember(collection) {
  const recent = new Set(JSON.parse(sessionStorage.getItem('rag.console.recent') ?? '[]'));
  recent.add(collection);
  sessionStorage.setItem('rag.console.recent', JSON.stringify([...recent].slice(-20)));
  fillCollectionNames();
}

$('#collections-refresh').addEventListener('click', loadCollections);

// ---- uploads ---------------------------------------------------------------------------------------------------

const commaList = (text) => text.split(',').map((s) => s.trim()).filter(Boolean);

$('#upload-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const collection = $('#upload-collection').value.trim();
  const files = [...$('#upload-files').files];
  const form = new FormData();
  for (const file of files) form.append('files', file, file.name);
  for (const tag of commaList($('#upload-tags').value)) form.append('tags', tag);
  const submit = event.submitter ?? $('#upload-form button[type=submit]');
  submit.disabled = true;
  showStatus('upload.sending', { count: files.length });
  try {
    const accepted = await api.uploadFiles(collection, form);
    showStatus('upload.accepted', { job: accepted.jobId, count: accepted.documents });
    renderUploadResults(accepted.files);
    remember(collection);
    trackJob(accepted.jobId);
    $('#upload-files').value = '';
    loadCollections();
  } catch (error) {
    report(error);
  } finally {
    submit.disabled = false;
  }
});

function renderUploadResults(files) {
  const table = $('#upload-results');
  table.hidden = false;
  table.querySelector('tbody').replaceChildren(...files.map((f) => el('tr', { 'data-status': f.status },
    el('td', { text: f.name }),
    el('td', { class: `state state-${f.status}`, text: f.status }),
    el('td', { text: f.parser ?? '' }),
    el('td', { class: 'num', text: f.pages ?? '' }),
    el('td', { class: 'num', text: f.chunks ?? '' }),
    el('td', { class: 'error', text: f.error ?? '' }))));
}

// ---- jobs: polled once a second until final -------------------------------------------------------------------

const finalStates = new Set(['completed', 'completed_with_errors', 'failed']);
const jobs = new Map(); // id → last status (or null before the first answer)
let pollTimer = null;

function trackJob(id) {
  if (!jobs.has(id)) jobs.set(id, null);
  sessionStorage.setItem('rag.console.jobs', JSON.stringify([...jobs.keys()].slice(-20)));
  renderJobs();
  poll();
}

function stopPolling() {
  clearTimeout(pollTimer);
  pollTimer = null;
}

function resumeJobs() {
  for (const id of JSON.parse(sessionStorage.getItem('rag.console.jobs') ?? '[]')) {
    if (!jobs.has(id)) jobs.set(id, null);
  }
  renderJobs();
  poll();
}

async function poll() {
  stopPolling();
  const open = [...jobs].filter(([, status]) => !status || !finalStates.has(status.state)).map(([id]) => id);
  if (!open.length || !features.ingestion) return;
  for (const id of open) {
    try {
      jobs.set(id, await api.job(id));
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return; // the key prompt is open; resumes on save
      if (error instanceof ApiError && error.status === 404) jobs.delete(id);
      else report(error);
    }
  }
  renderJobs();
  // Stats move with the job: refresh them while it runs and once it ends.
  if (activeTab === 'collections') loadCollections();
  if ([...jobs.values()].some((status) => !status || !finalStates.has(status.state))) {
    pollTimer = setTimeout(poll, 1000);
  }
}

function renderJobs() {
  const list = $('#jobs-list');
  $('#jobs-empty').hidden = jobs.size > 0;
  list.replaceChildren(...[...jobs].reverse().map(([id, status]) => {
    if (!status) return el('li', { class: 'job', 'data-job': id }, el('code', { text: id }));
    const percent = status.total ? Math.round((100 * status.processed) / status.total) : 0;
    const item = el('li', { class: 'job', 'data-job': id, 'data-state': status.state },
      el('div', { class: 'job-head' },
        el('span', { class: `state state-${status.state}`, text: t(`state.${status.state}`) }),
        el('strong', { text: status.collection }),
        el('code', { class: 'small', text: id })),
      el('progress', { max: Math.max(status.total, 1), value: status.processed, 'aria-label': `${percent}%` }),
      el('div', { class: 'small', text: t('jobs.progress', status) }),
      el('div', { class: 'small muted', text: t('jobs.chunks', { embedded: status.chunksEmbedded, reused: status.chunksReused, unchanged: status.chunksUnchanged, deleted: status.chunksDeleted }) }));
    if (status.errors?.length) {
      item.append(el('ul', { class: 'errors' }, ...status.errors.map((e) => el('li', {}, el('code', { text: e.id }), ` ${e.error}`))));
    }
    return item;
  }));
}

$('#job-track-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const id = $('#job-track-id').value.trim();
  if (id) trackJob(id);
  $('#job-track-id').value = '';
});

// ---- search ----------------------------------------------------------------------------------------------------

/** key=value lines → the API's metadata filter; a value that parses as JSON (number, true, "quoted") is sent as such. */
function parseFilter(text) {
  const filter = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const at = line.indexOf('=');
    if (at < 1) throw new Error(t('search.badFilter', { line }));
    const value = line.slice(at + 1).trim();
    let parsed;
    try { parsed = JSON.parse(value); } catch { parsed = value; }
    filter[line.slice(0, at).trim()] = parsed;
  }
  return Object.keys(filter).length ? filter : undefined;
}

let lastSearch = null; // { request, response } so results are relabelled on a language change

$('#search-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const collection = $('#search-collection').value.trim();
  let request;
  try {
    const tags = commaList($('#search-tags').value);
    request = {
      query: $('#search-query').value,
      topK: Number($('#search-topk').value) || 5,
      mode: $('#search-mode').value,
      tags: tags.length ? tags : undefined,
      filter: parseFilter($('#search-filter').value),
    };
  } catch (error) {
    showStatus('error.http', { status: 400, detail: error.message }, 'error');
    return;
  }
  try {
    const response = await api.search(collection, request);
    showStatus(null);
    remember(collection);
    lastSearch = { request, response };
    renderSearch();
  } catch (error) {
    report(error);
  }
});

function pagesText(start, end) {
  if (start == null) return null;
  return end != null && end !== start ? `${t('result.pages')} ${start}–${end}` : `${t('result.page')} ${start}`;
}

function renderSearch() {
  if (!lastSearch) return;
  const { request, response } = lastSearch;
  const terms = queryTerms(request.query);
  $('#search-summary').textContent = response.results.length
    ? t('search.summary', { count: response.results.length, mode: t(`mode.${response.mode}`), took: response.tookMs.toFixed(1), cached: response.cached ? t('search.cached') : '' })
    : t('search.none');
  $('#search-results').replaceChildren(...response.results.map((r) => {
    const where = [r.section ? `${t('result.section')}: ${r.section}` : null, pagesText(r.pageStart, r.pageEnd)].filter(Boolean).join(' · ');
    const text = el('p', { class: 'text' });
    appendHighlighted(text, r.text, terms);
    const title = el('span', { class: 'title' });
    appendHighlighted(title, r.title ?? r.documentId, terms);
    return el('li', { class: 'result', 'data-document': r.documentId },
      el('div', { class: 'result-head' },
        title,
        el('span', { class: 'score', title: t('result.score') }, `${t('result.score')} `, el('b', { text: r.score.toFixed(4) }))),
      el('div', { class: 'small muted' },
        el('code', { text: r.documentId }),
        where ? ` · ${where}` : null,
        r.tags?.length ? ` · ${r.tags.map((tag) => `#${tag}`).join(' ')}` : null),
      text);
  }));
}

// ---- context ---------------------------------------------------------------------------------------------------

let lastContext = null;

$('#context-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const collection = $('#context-collection').value.trim();
  const request = {
    query: $('#context-query').value,
    mode: $('#context-mode').value,
    maxChars: Number($('#context-maxchars').value) || undefined,
    maxDocs: Number($('#context-maxdocs').value) || undefined,
  };
  try {
    lastContext = { request, response: await api.context(collection, request) };
    showStatus(null);
    remember(collection);
    renderContext();
  } catch (error) {
    report(error);
  }
});

function renderContext() {
  if (!lastContext) return;
  const { request, response } = lastContext;
  const terms = queryTerms(request.query);
  $('#context-summary').textContent = t('context.summary', {
    count: response.sources.length, chars: formatNumber(response.chars), original: formatNumber(response.originalChars),
    mode: t(`mode.${response.mode}`), took: response.tookMs.toFixed(1), cached: response.cached ? t('search.cached') : '',
  });
  $('#context-sources').replaceChildren(...response.sources.map((s) => {
    const where = [s.section, pagesText(s.pageStart, s.pageEnd)].filter(Boolean).join(' · ');
    return el('li', { 'data-document': s.documentId },
      el('b', { text: `[${s.index}] ` }), el('span', { text: s.title ?? s.documentId }),
      el('span', { class: 'small muted', text: ` ${s.documentId}${where ? ` · ${where}` : ''} · ${t('result.score')} ${s.score.toFixed(4)} · ${t('context.sourceChars', { chars: formatNumber(s.chars) })}${s.compressed ? ` · ${t('context.compressed')}` : ''}` }));
  }));
  const pre = $('#context-text');
  pre.hidden = false;
  pre.replaceChildren();
  appendHighlighted(pre, response.context, terms);
}

// ---- start -----------------------------------------------------------------------------------------------------

$('#lang-toggle').addEventListener('click', toggle);

function labelToggle() {
  $('#lang-toggle').textContent = language() === 'ko' ? 'English' : '한국어';
}

onChange(() => {
  labelToggle();
  renderStatus();
  renderCollections();
  renderJobs();
  renderSearch();
  renderContext();
});

async function start() {
  apply();
  labelToggle();
  try {
    features = await api.config();
  } catch (error) {
    report(error);
  }
  for (const element of document.querySelectorAll('[data-requires="ingestion"]')) element.hidden = !features.ingestion;
  for (const element of document.querySelectorAll('[data-requires="query-only"]')) element.hidden = features.ingestion;
  document.body.dataset.ready = 'true';
  selectTab(features.ingestion ? 'collections' : 'search');
  if (features.ingestion) resumeJobs();
  fillCollectionNames();
}

start();
