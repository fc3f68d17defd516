// Site search on the static release: Pagefind's index, no server, works offline once loaded.
// Pagefind's indexer splits long Chinese words into shorter ones, but a typed query is not split, so
// we segment the query ourselves (Intl.Segmenter) and let Pagefind match each piece.
const form = document.querySelector("[data-search-form]");
const input = form.querySelector("input[name=q]");
const status = document.querySelector("[data-search-status]");
const list = document.querySelector("[data-search-results]");
let pagefind;

export function segment(query) {
  const text = query.trim();
  if (!text) return "";
  if (typeof Intl !== "undefined" && Intl.Segmenter) {
    const words = [...new Intl.Segmenter("zh", { granularity: "word" }).segment(text)]
      .filter((s) => s.isWordLike)
      .map((s) => s.segment);
    return words.join(" ");
  }
  return text;
}

function esc(s) {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

async function run(query) {
  list.innerHTML = "";
  if (!query.trim()) {
    status.textContent = "";
    return;
  }
  status.textContent = "正在搜索……";
  try {
    pagefind = pagefind || (await import("/pagefind/pagefind.js"));
    let search = await pagefind.search(segment(query));
    if (!search.results.length && /[\u4e00-\u9fff]{2,}/.test(query)) {
      // The index may hold shorter pieces than the segmenter produced: try each character pair.
      const chars = [...query.replace(/\s+/g, "")];
      const pairs = chars.length > 1 ? chars.slice(0, -1).map((c, i) => c + chars[i + 1]) : chars;
      search = await pagefind.search(pairs.join(" "));
    }
    const results = await Promise.all(search.results.slice(0, 20).map((r) => r.data()));
    status.textContent = results.length ? `找到 ${search.results.length} 个结果` : "没有找到结果，换个词试试。";
    list.innerHTML = results
      .map(
        (r) =>
          `<li class="search-result"><h2 class="search-result__title"><a href="${esc(r.url)}">${esc(r.meta.title || r.url)}</a></h2><p>${r.excerpt}</p></li>`,
      )
      .join("");
  } catch (err) {
    status.textContent = "搜索暂时无法使用，请稍后再试。";
  }
}

const initial = new URLSearchParams(location.search).get("q") || "";
input.value = initial;
run(initial);
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const query = input.value;
  history.replaceState(null, "", query ? `?q=${encodeURIComponent(query)}` : location.pathname);
  run(query);
});
