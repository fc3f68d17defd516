// The project's Chinese analyzer for the browser: the same rules as cms/core/analyzer.py (read its
// docstring), so a query is cut exactly as the index was. tests/test_analyzer.py runs both on generated
// text and requires the same output.
const HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{3ffff}";
const JOINERS = "\"'`‘’‚‛“”„‟‹›«»「」『』《》〈〉【】〔〕〖〗〘〙〚〛()[]{}·・•‧";
const DROP = new Set([...JOINERS]);
// A Han run, or a run of letters and digits that are not Han (Python's [^\W_] is exactly \p{L}\p{N}).
const RUN = new RegExp(`([${HAN}]+)|((?:(?![${HAN}])[\\p{L}\\p{N}])+)`, "gu");
const HAN_CHAR = new RegExp(`^[${HAN}]`, "u");
export const PHRASE_MARK = "\x01";

export function normalize(text) {
  let out = "";
  for (const ch of text.normalize("NFKC").toLowerCase()) if (!DROP.has(ch)) out += ch;
  return out;
}

export function runs(text) {
  const found = [];
  for (const m of normalize(text).matchAll(RUN)) found.push(m[1] !== undefined ? [m[1], true] : [m[2], false]);
  return found;
}

export function isHan(term) {
  return HAN_CHAR.test(term);
}

function grams(run, n) {
  const chars = [...run];
  const out = [];
  for (let i = 0; i + n <= chars.length; i++) out.push(chars.slice(i, i + n).join(""));
  return out;
}

export function terms(text) {
  const counts = new Map();
  const add = (t) => counts.set(t, (counts.get(t) || 0) + 1);
  for (const [run, han] of runs(text)) {
    const chars = [...run];
    if (!han || chars.length === 1) add(run);
    else {
      grams(run, 2).forEach(add);
      add(chars[chars.length - 1]);
    }
  }
  return counts;
}

export function parseQuery(query) {
  const found = runs(query);
  const out = { required: [], prefixes: [], phrases: [], words: [] };
  let lastLatin = -1;
  found.forEach(([run, han], i) => {
    if (!han && !/^\p{Nd}+$/u.test(run)) lastLatin = i;
  });
  const push = (list, t) => {
    if (!list.includes(t)) list.push(t);
  };
  found.forEach(([run, han], i) => {
    out.words.push(run);
    const length = [...run].length;
    if (han && length === 1) push(out.prefixes, run);
    else if (han) {
      if (length >= 3) out.phrases.push(grams(run, 3).map((t) => PHRASE_MARK + t));
      grams(run, 2).forEach((t) => push(out.required, t));
    } else if (i === lastLatin && i === found.length - 1) push(out.prefixes, run);
    else push(out.required, run);
  });
  return out;
}

export function prefixMatches(prefix, term) {
  if (isHan(prefix)) return term === prefix || ([...term].length === 2 && [...term][0] === prefix);
  return term.startsWith(prefix) && !isHan(term);
}
