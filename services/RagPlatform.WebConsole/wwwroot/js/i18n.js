// Korean and English labels. Elements carry data-i18n="key"; messages built in code call t(key, values).
const messages = {
  ko: {
    'title.console': '콘솔',
    'tab.collections': '컬렉션', 'tab.search': '검색', 'tab.context': '컨텍스트',
    'key.button': 'API 키', 'key.title': 'API 키가 필요합니다',
    'key.explain': '이 서버는 API 키를 요구합니다. 키는 이 브라우저 탭의 sessionStorage에만 저장되며, 탭을 닫으면 지워집니다.',
    'key.invalid': '입력한 API 키가 거부되었습니다(잘못되었거나 폐기 또는 만료됨). 다른 키를 입력하세요.',
    'key.label': 'API 키', 'key.save': '저장', 'key.forget': '키 지우기',
    'key.saved': 'API 키를 이 탭의 세션에 저장했습니다.', 'key.forgotten': 'API 키를 지웠습니다.',
    'common.refresh': '새로고침',
    'collections.title': '컬렉션', 'collections.name': '이름', 'collections.documents': '문서', 'collections.chunks': '청크',
    'collections.embedded': '임베딩됨', 'collections.pending': '대기', 'collections.version': '버전',
    'collections.provider': '임베딩', 'collections.backend': '벡터 저장소', 'collections.updated': '갱신',
    'collections.empty': '컬렉션이 없습니다. 아래에서 문서를 올리면 만들어집니다.',
    'collections.reindex': '재색인 {state}: {processed}/{total}',
    'upload.title': '문서 올리기', 'upload.collection': '컬렉션', 'upload.tags': '태그 (쉼표로 구분)',
    'upload.files': '파일 (PDF, DOCX, PPTX, XLSX, HTML, Markdown, HWPX, HWP, 텍스트)', 'upload.submit': '올리기',
    'upload.file': '파일', 'upload.status': '상태', 'upload.parser': '파서', 'upload.pages': '쪽', 'upload.chunksCol': '청크',
    'upload.error': '오류', 'upload.sending': '{count}개 파일을 올리는 중…', 'upload.accepted': '작업 {job}: 파일 {count}개 접수',
    'jobs.title': '작업', 'jobs.track': '추적', 'jobs.empty': '이 세션에서 시작한 작업이 여기에 표시됩니다.',
    'jobs.progress': '{processed}/{total} 처리 · 성공 {succeeded} · 실패 {failed} · 건너뜀 {skipped} · 변경 없음 {unchanged}',
    'jobs.chunks': '청크: 임베딩 {embedded} · 재사용 {reused} · 변경 없음 {unchanged} · 삭제 {deleted}',
    'state.queued': '대기 중', 'state.running': '진행 중', 'state.completed': '완료',
    'state.completed_with_errors': '일부 오류로 완료', 'state.failed': '실패',
    'search.title': '검색 플레이그라운드', 'search.collection': '컬렉션', 'search.query': '질의', 'search.mode': '방식',
    'search.topK': '상위 k', 'search.tags': '태그 필터 (쉼표)', 'search.filter': '메타데이터 필터 (한 줄에 key=value)',
    'search.submit': '검색', 'search.summary': '결과 {count}개 · {mode} · {took} ms{cached}', 'search.cached': ' · 캐시됨',
    'search.none': '결과가 없습니다.', 'search.badFilter': '필터 줄 "{line}"은 key=value 형식이 아닙니다.',
    'result.score': '점수', 'result.section': '절', 'result.pages': '쪽', 'result.page': '쪽',
    'mode.hybrid': '하이브리드', 'mode.dense': '밀집(벡터)', 'mode.lexical': '어휘(키워드)',
    'context.title': '컨텍스트 미리보기', 'context.maxChars': '최대 글자 수', 'context.maxDocs': '최대 문서 수',
    'context.submit': '컨텍스트 만들기',
    'context.summary': '출처 {count}개 · {chars}자 (원문 {original}자) · {mode} · {took} ms{cached}',
    'context.compressed': '압축됨', 'context.sourceChars': '{chars}자',
    'error.network': '서버에 연결할 수 없습니다: {message}', 'error.forbidden': '권한이 없습니다: {detail}',
    'error.http': '요청 실패 ({status}): {detail}',
    'footer.readonly': '이 서버(질의 API)는 검색과 컨텍스트만 제공합니다. 컬렉션, 업로드, 작업은 수집(ingestion) 서비스에 있습니다.',
  },
  en: {
    'title.console': 'Console',
    'tab.collections': 'Collections', 'tab.search': 'Search', 'tab.context': 'Context',
    'key.button': 'API key', 'key.title': 'An API key is required',
    'key.explain': 'This server requires an API key. The key is kept only in this browser tab\'s sessionStorage and is gone when the tab closes.',
    'key.invalid': 'The API key was refused (invalid, revoked or expired). Enter another key.',
    'key.label': 'API key', 'key.save': 'Save', 'key.forget': 'Forget key',
    'key.saved': 'API key saved for this tab\'s session.', 'key.forgotten': 'API key forgotten.',
    'common.refresh': 'Refresh',
    'collections.title': 'Collections', 'collections.name': 'Name', 'collections.documents': 'Documents', 'collections.chunks': 'Chunks',
    'collections.embedded': 'Embedded', 'collections.pending': 'Pending', 'collections.version': 'Version',
    'collections.provider': 'Embedding', 'collections.backend': 'Vector backend', 'collections.updated': 'Updated',
    'collections.empty': 'No collections yet. Upload documents below to create one.',
    'collections.reindex': 'Re-index {state}: {processed}/{total}',
    'upload.title': 'Upload documents', 'upload.collection': 'Collection', 'upload.tags': 'Tags (comma-separated)',
    'upload.files': 'Files (PDF, DOCX, PPTX, XLSX, HTML, Markdown, HWPX, HWP, text)', 'upload.submit': 'Upload',
    'upload.file': 'File', 'upload.status': 'Status', 'upload.parser': 'Parser', 'upload.pages': 'Pages', 'upload.chunksCol': 'Chunks',
    'upload.error': 'Error', 'upload.sending': 'Uploading {count} file(s)…', 'upload.accepted': 'Job {job}: {count} file(s) accepted',
    'jobs.title': 'Jobs', 'jobs.track': 'Track', 'jobs.empty': 'Jobs started in this session appear here.',
    'jobs.progress': '{processed}/{total} processed · {succeeded} succeeded · {failed} failed · {skipped} skipped · {unchanged} unchanged',
    'jobs.chunks': 'Chunks: {embedded} embedded · {reused} reused · {unchanged} unchanged · {deleted} deleted',
    'state.queued': 'queued', 'state.running': 'running', 'state.completed': 'completed',
    'state.completed_with_errors': 'completed with errors', 'state.failed': 'failed',
    'search.title': 'Search playground', 'search.collection': 'Collection', 'search.query': 'Query', 'search.mode': 'Mode',
    'search.topK': 'Top k', 'search.tags': 'Tag filter (comma)', 'search.filter': 'Metadata filter (key=value per line)',
    'search.submit': 'Search', 'search.summary': '{count} result(s) · {mode} · {took} ms{cached}', 'search.cached': ' · cached',
    'search.none': 'No results.', 'search.badFilter': 'Filter line "{line}" is not key=value.',
    'result.score': 'score', 'result.section': 'section', 'result.pages': 'pages', 'result.page': 'page',
    'mode.hybrid': 'Hybrid', 'mode.dense': 'Dense (vector)', 'mode.lexical': 'Lexical (keyword)',
    'context.title': 'Context preview', 'context.maxChars': 'Max characters', 'context.maxDocs': 'Max documents',
    'context.submit': 'Build context',
    'context.summary': '{count} source(s) · {chars} chars (of {original}) · {mode} · {took} ms{cached}',
    'context.compressed': 'compressed', 'context.sourceChars': '{chars} chars',
    'error.network': 'Cannot reach the server: {message}', 'error.forbidden': 'Not allowed: {detail}',
    'error.http': 'Request failed ({status}): {detail}',
    'footer.readonly': 'This server (the query API) offers search and context only. Collections, uploads and jobs live on the ingestion service.',
  },
};

const storageKey = 'rag.console.lang';
let current = localStorage.getItem(storageKey) ?? (navigator.language?.toLowerCase().startsWith('ko') ? 'ko' : 'en');
if (!(current in messages)) current = 'en';
const listeners = [];

export const language = () => current;

/** The message for key in the current language, with {name} placeholders filled from values. */
export function t(key, values = {}) {
  const text = messages[current][key] ?? messages.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : `{${name}}`));
}

/** Relabels every data-i18n element under root; called on start and on every language change. */
export function apply(root = document) {
  document.documentElement.lang = current;
  for (const element of root.querySelectorAll('[data-i18n]')) {
    element.textContent = t(element.dataset.i18n);
  }
}

export function toggle() {
  current = current === 'ko' ? 'en' : 'ko';
  localStorage.setItem(storageKey, current);
  apply();
  for (const listener of listeners) listener(current);
}

/** Views that render messages in code re-render through this. */
export const onChange = (listener) => listeners.push(listener);
