// Query terms marked in result text, built as DOM nodes (never innerHTML: result text is user data).

// Korean particles and endings that follow a noun in a query ("검진은", "금식을"): a term is also looked for
// without them, so "금식을" marks "금식" in the text.
const particles = ['으로는', '에서는', '에게서', '으로', '에서', '에게', '까지', '부터', '처럼', '보다', '은', '는', '이', '가', '을', '를', '에', '의', '로', '와', '과', '도', '만'];
const hangul = /[\uac00-\ud7a3]$/;

/** The distinct terms of a query worth marking, longest first (so a longer term wins where two overlap). */
export function queryTerms(query) {
  const terms = new Set();
  for (const raw of query.split(/[\s\p{P}\p{S}]+/u)) {
    const word = raw.trim().toLowerCase();
    if (!word) continue;
    if (word.length >= 2 || hangul.test(word)) terms.add(word);
    for (const particle of particles) {
      if (word.length > particle.length + 1 && word.endsWith(particle) && hangul.test(word)) {
        terms.add(word.slice(0, -particle.length));
        break;
      }
    }
  }
  return [...terms].sort((a, b) => b.length - a.length);
}

const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Appends text to parent with every occurrence of terms wrapped in <mark>. */
export function appendHighlighted(parent, text, terms) {
  if (!terms.length) {
    parent.append(text);
    return;
  }
  const pattern = new RegExp(terms.map(escapeRegex).join('|'), 'giu');
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) parent.append(text.slice(last, match.index));
    const mark = document.createElement('mark');
    mark.textContent = match[0];
    parent.append(mark);
    last = match.index + match[0].length;
  }
  if (last < text.length) parent.append(text.slice(last));
}
