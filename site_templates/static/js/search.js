// Site search on the static release: no server at read time. The index (/searchindex/, see
// cms/publishing/search/index.py) is cut with the same analyzer as the query (./analyzer.js), and only the
// buckets that hold the query's keys are fetched. A page matches when it holds every term of the query;
// pages holding each typed run in one piece rank first, then pages with the words in their title.
import { normalize, parseQuery } from "./analyzer.js";

const ROOT = "/searchindex/";
const PAGE = 10; // results shown at a time; more load as the reader scrolls
const BOUNDARY = /[。！？!?；;\n]/;
const form = document.querySelector("[data-search-form]");
const input = form.querySelector("input[name=q]");
const status = document.querySelector("[data-search-status]");
const list = document.querySelector("[data-search-results]");
const more = document.querySelector("[data-search-more]");
const sections = document.querySelector("[data-search-sections]");
const files = new Map(); // URL → promise of its parsed content, for this page's life
let entryPromise = null;
let current = null; // the shown search: { token, results, shown, plan }
let token = 0;

// -- fetching ------------------------------------------------------------------------------------

async function get(url, kind, cacheMode = "default") {
  let response;
  try {
    response = await fetch(url, { cache: cacheMode });
  } catch (err) {
    if (cacheMode === "default") throw err;
    response = await fetch(url, { cache: "force-cache" }); // offline: the copy the browser kept
  }
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  if (kind === "json") return response.json();
  if (kind === "text") return response.text();
  return response.arrayBuffer();
}

function cached(url, kind) {
  if (!files.has(url)) {
    const promise = get(url, kind);
    promise.catch(() => files.delete(url));
    files.set(url, promise);
  }
  return files.get(url);
}

function entry() {
  if (!entryPromise) {
    entryPromise = get(ROOT + "index.json", "json", "no-cache");
    entryPromise.catch(() => (entryPromise = null));
  }
  return entryPromise;
}

// A bucket: [count] then per key [key length][key][postings count][(doc delta << 2 | level)…], varints.
function decodeBucket(buffer) {
  const bytes = new Uint8Array(buffer);
  const decoder = new TextDecoder();
  let pos = 0;
  const read = () => {
    let value = 0;
    let scale = 1;
    let byte;
    do {
      byte = bytes[pos++];
      value += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80);
    return value;
  };
  const keys = new Map();
  const count = read();
  for (let i = 0; i < count; i++) {
    const length = read();
    const key = decoder.decode(bytes.subarray(pos, pos + length));
    pos += length;
    const n = read();
    const docs = new Uint32Array(n);
    const levels = new Uint8Array(n);
    let doc = 0;
    for (let j = 0; j < n; j++) {
      const value = read();
      doc += Math.floor(value / 4);
      docs[j] = doc;
      levels[j] = value & 3;
    }
    keys.set(key, { docs, levels });
  }
  return keys;
}

// CRC-32 (the polynomial of zlib.crc32) of a key's UTF-8: which bucket of a segment holds it.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const encoder = new TextEncoder();

export function bucketOf(key, buckets) {
  let crc = 0xffffffff;
  for (const byte of encoder.encode(key)) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return ((crc ^ 0xffffffff) >>> 0) % buckets;
}

const PREFIX_MARK = "\x02"; // a prefix's key: the union of the terms it begins (cms/publishing/search/index.py)
const decoded = new Map(); // bucket URL → promise of its keys

function bucket(url) {
  if (!decoded.has(url)) {
    const promise = cached(url, "bin").then(decodeBucket);
    promise.catch(() => decoded.delete(url));
    decoded.set(url, promise);
  }
  return decoded.get(url);
}

async function postings(segment, key) {
  const keys = await bucket(`${ROOT}c-${segment.id}-${bucketOf(key, segment.b)}.bin`);
  return keys.get(key) || null;
}

const asMap = (list) => {
  const map = new Map();
  if (list) list.docs.forEach((doc, j) => map.set(doc, list.levels[j]));
  return map;
};

// -- matching and ranking ------------------------------------------------------------------------

const WEIGHT = [1, 1.5, 3, 3.5]; // by level: plain, three times or more, in the title, both

async function search(plan) {
  const index = await entry();
  const segments = index.segments.filter((s) => s.n > 0);
  const live = segments.reduce((n, s) => n + s.n - s.dead.length, 0);
  const perSegment = await Promise.all(
    segments.map(async (segment) => {
      const lists = await Promise.all([
        ...plan.required.map(async (t) => asMap(await postings(segment, t))),
        ...plan.prefixes.map(async (p) => asMap(await postings(segment, PREFIX_MARK + p))),
      ]);
      const phrases = await Promise.all(
        plan.phrases.map((keys) => Promise.all(keys.map(async (k) => asMap(await postings(segment, k))))),
      );
      return { segment, lists, phrases };
    }),
  );
  // Document frequency over all segments: the weight of a rare term is higher.
  const terms = plan.required.length + plan.prefixes.length;
  const df = Array.from({ length: terms }, (_, i) => perSegment.reduce((n, s) => n + s.lists[i].size, 0));
  const idf = df.map((d) => Math.log(1 + (live - d + 0.5) / (d + 0.5)));
  const results = [];
  perSegment.forEach(({ segment, lists, phrases }, segIndex) => {
    if (!lists.length) return;
    const dead = new Set(segment.dead);
    const order = lists.map((l, i) => i).sort((a, b) => lists[a].size - lists[b].size);
    for (const doc of lists[order[0]].keys()) {
      if (dead.has(doc) || !order.every((i) => lists[i].has(doc))) continue;
      let score = 0;
      lists.forEach((l, i) => (score += idf[i] * WEIGHT[l.get(doc)]));
      let whole = 0;
      let titled = 0;
      for (const keys of phrases) {
        if (keys.every((k) => k.has(doc))) {
          whole += 1;
          if (keys.every((k) => k.get(doc) & 2)) titled += 1;
        }
      }
      results.push({ segment, segIndex, doc, whole, titled, score });
    }
  });
  results.sort(
    (a, b) =>
      b.whole - a.whole || b.titled - a.titled || b.score - a.score || a.segIndex - b.segIndex || a.doc - b.doc,
  );
  return results;
}

async function describe(result, table) {
  const rows = await cached(`${ROOT}d-${result.segment.id}-${Math.floor(result.doc / table)}.json`, "json");
  const [url, title, kind, section] = rows[result.doc % table];
  return { url, title, kind, section };
}

// Every page a query finds, best first (the tests call this in the browser).
export async function find(query) {
  const results = await search(parseQuery(query));
  const index = await entry();
  return Promise.all(results.map(async (r) => (await describe(r, index.table)).url));
}

// -- excerpts ------------------------------------------------------------------------------------

// The page's own text, as the index saw it (its data-search-body regions less data-search-ignore), without
// the title, which the result shows already.
function pageText(html) {
  const doc = new DOMParser().parseFromString(html, "text/html");
  doc.querySelectorAll("[data-search-ignore], [data-search-title], script, style, template, noscript, svg, button").forEach((n) => n.remove());
  const blocks = [];
  for (const region of doc.querySelectorAll("[data-search-body]")) {
    region.querySelectorAll("p, li, h1, h2, h3, h4, h5, h6, dt, dd, td, th, figcaption, blockquote, br").forEach((n) =>
      n.after(doc.createTextNode("\n")),
    );
    blocks.push(region.textContent);
  }
  return blocks.join("\n").replace(/[ \t\r\f\v]+/g, " ").replace(/\s*\n\s*/g, "\n").trim();
}

// The text normalized as the analyzer does, with where each of its characters came from.
function normalizedWithMap(text) {
  let out = "";
  const from = [];
  let i = 0;
  for (const ch of text) {
    const n = normalize(ch);
    for (let k = 0; k < n.length; k++) from.push(i);
    out += n;
    i += ch.length;
  }
  from.push(text.length);
  return { out, from };
}

function matchRanges(text, words) {
  const { out, from } = normalizedWithMap(text);
  const ranges = [];
  for (const word of words) {
    for (let at = out.indexOf(word); at >= 0 && word; at = out.indexOf(word, at + word.length)) {
      ranges.push([from[at], from[at + word.length - 1] + 1, word.length]);
    }
  }
  return ranges.sort((a, b) => a[0] - b[0]);
}

function sentenceAround(text, start, end) {
  let s = start;
  while (s > 0 && !BOUNDARY.test(text[s - 1])) s--;
  let e = end;
  while (e < text.length && !BOUNDARY.test(text[e])) e++;
  if (e < text.length && text[e] !== "\n") e++; // keep the sentence's own full stop
  return [s, e];
}

function esc(s) {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

export function excerpt(text, words, size = 110) {
  const ranges = matchRanges(text, words);
  // The sentence with the longest match (the first of them), else the text's opening sentence.
  const best = ranges.reduce((b, r) => (!b || r[2] > b[2] ? r : b), null);
  let [s, e] = best ? sentenceAround(text, best[0], best[1]) : sentenceAround(text, 0, 0);
  if (e - s < 40 && e < text.length) {
    const [, next] = sentenceAround(text, e + 1, e + 1);
    if (next - s <= size) e = next;
  }
  let head = "";
  let tail = "";
  if (e - s > size && best) {
    const from = Math.max(s, best[0] - 40);
    const to = Math.min(e, Math.max(best[1], from) + size - (best[0] - from));
    if (from > s) head = "…";
    if (to < e) tail = "…";
    [s, e] = [from, to];
  } else if (e - s > size) {
    e = s + size;
    tail = "…";
  }
  const slice = text.slice(s, e).replace(/\n/g, " ");
  let html = "";
  let at = 0;
  for (const [a, b] of ranges) {
    const from = a - s;
    const to = b - s;
    if (from < at || to > slice.length) continue;
    html += esc(slice.slice(at, from)) + "<mark>" + esc(slice.slice(from, to)) + "</mark>";
    at = to;
  }
  return head + html + esc(slice.slice(at)) + tail;
}

// -- the page ------------------------------------------------------------------------------------

function resultItem(info) {
  const li = document.createElement("li");
  li.className = "search-result";
  const label = [info.kind, info.section].filter(Boolean).map(esc).join(" · ");
  li.innerHTML =
    (label ? `<p class="search-result__meta">${label}</p>` : "") +
    `<h2 class="search-result__title"><a href="${esc(info.url)}">${esc(info.title || info.url)}</a></h2>` +
    `<p class="search-result__excerpt"></p>`;
  return li;
}

async function fillExcerpt(li, url, words) {
  try {
    const text = pageText(await cached(url, "text"));
    li.querySelector(".search-result__excerpt").innerHTML = excerpt(text, words);
  } catch (err) {
    li.querySelector(".search-result__excerpt").remove(); // offline: the title and label still lead there
  }
}

const excerpts =
  "IntersectionObserver" in window
    ? new IntersectionObserver(
        (entries) => {
          for (const entry of entries) {
            if (!entry.isIntersecting || !current) continue;
            excerpts.unobserve(entry.target);
            fillExcerpt(entry.target, entry.target.dataset.url, current.plan.words);
          }
        },
        { rootMargin: "200px" },
      )
    : null;

async function showMore() {
  const view = current;
  if (!view || view.loading || view.shown >= view.results.length) return;
  view.loading = true;
  const index = await entry();
  const batch = view.results.slice(view.shown, view.shown + PAGE);
  const infos = await Promise.all(batch.map((r) => describe(r, index.table)));
  if (view !== current) return;
  for (const info of infos) {
    const li = resultItem(info);
    list.append(li);
    // The excerpt costs a fetch of the page: only for results the reader comes to see.
    if (excerpts) {
      li.dataset.url = info.url;
      excerpts.observe(li);
    } else fillExcerpt(li, info.url, view.plan.words);
  }
  view.shown += batch.length;
  view.loading = false;
  const left = view.results.length - view.shown;
  more.hidden = left <= 0;
  more.textContent = `显示更多结果（还有 ${left} 个）`;
  if (left > 0 && more.getBoundingClientRect().top < innerHeight + 400) showMore(); // still in view
}

async function run(query) {
  const mine = ++token;
  if (excerpts) excerpts.disconnect();
  list.innerHTML = "";
  more.hidden = true;
  sections.hidden = true;
  current = null;
  const plan = parseQuery(query);
  if (!plan.required.length && !plan.prefixes.length) {
    status.textContent = query.trim() ? "请输入汉字、字母或数字。" : "";
    return;
  }
  status.textContent = "正在搜索……";
  try {
    const results = await search(plan);
    if (mine !== token) return;
    if (!results.length) {
      status.textContent = `没有找到包含“${query.trim()}”的页面。可以换个词，或从下面的栏目找：`;
      sections.hidden = false;
      return;
    }
    current = { results, shown: 0, plan, loading: false };
    await showMore();
    if (mine === token) status.textContent = `找到 ${results.length} 个结果`;
  } catch (err) {
    if (mine === token) status.textContent = "搜索暂时无法使用（可能没有网络），请稍后再试。";
  }
}

function setAddress(query) {
  history.replaceState(null, "", query.trim() ? `?q=${encodeURIComponent(query.trim())}` : location.pathname);
}

{
  const initial = new URLSearchParams(location.search).get("q") || "";
  input.value = initial;
  run(initial);
  let timer = 0;
  let last = initial;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (input.value === last) return;
      last = input.value;
      setAddress(last);
      run(last);
    }, 250);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    last = input.value;
    setAddress(last);
    run(last);
  });
  more.addEventListener("click", showMore);
  if ("IntersectionObserver" in window) {
    new IntersectionObserver((seen) => seen.some((e) => e.isIntersecting) && showMore(), { rootMargin: "400px" }).observe(
      more,
    );
  }
}
