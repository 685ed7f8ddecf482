// A small Markdown renderer for chat answers: fenced code blocks, inline code, bold, italic, http(s) links,
// headings, block quotes, bulleted and numbered lists, paragraphs. Model output is untrusted, so every piece of
// text is HTML-escaped before any markup is added, and markup is only ever added by this file: the result is safe
// to assign to innerHTML. An unclosed code fence (an answer still streaming) renders as a code block to the end.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

// Inline markup of one block's text. Code spans are cut out first, as \u0000<index>\u0000 placeholders, so that
// `*` inside them stays literal (renderMarkdown strips \u0000 from its input, so placeholders are unambiguous).
function renderInline(text) {
  const spans = [];
  let html = escapeHtml(text).replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g, (_, ticks, code) => {
    spans.push(`<code>${code.trim() === '' ? code : code.replace(/^ (.*) $/s, '$1')}</code>`);
    return `\u0000${spans.length - 1}\u0000`;
  });
  // Links are cut out too, so that emphasis rules never reach inside an href.
  html = html.replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s()]+)\)/g, (_, label, url) => {
    spans.push(`<a href="${url}" target="_blank" rel="noopener noreferrer">${label}</a>`);
    return `\u0000${spans.length - 1}\u0000`;
  });
  html = html
    .replace(/\*\*(\S(?:[\s\S]*?\S)?)\*\*/g, '<strong>$1</strong>')
    .replace(/__(\S(?:[\s\S]*?\S)?)__/g, '<strong>$1</strong>')
    .replace(/(^|[^*\w])\*(\S(?:[^*]*?\S)?)\*(?![*\w])/g, '$1<em>$2</em>')
    .replace(/(^|[^_\w])_(\S(?:[^_]*?\S)?)_(?![_\w])/g, '$1<em>$2</em>');
  html = html.replace(/\n/g, '<br>');
  // A link's label may hold a code span's placeholder: restore until none is left (each pass removes a level).
  while (html.includes('\u0000')) html = html.replace(/\u0000(\d+)\u0000/g, (_, i) => spans[Number(i)]);
  return html;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)\s*$/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const BULLET = /^ {0,3}[-*+]\s+(.*)$/;
const NUMBERED = /^ {0,3}(\d{1,9})[.)]\s+(.*)$/;
const QUOTE = /^ {0,3}>\s?(.*)$/;

function renderCodeBlock(lines, language) {
  const cls = language ? ` class="language-${escapeHtml(language)}"` : '';
  return `<pre><code${cls}>${escapeHtml(lines.join('\n'))}</code></pre>`;
}

// A list of consecutive items of one kind; a line that is not an item continues the previous item.
function renderList(lines, start, pattern, ordered) {
  const items = [];
  let i = start;
  for (; i < lines.length && lines[i].trim() !== ''; i++) {
    const m = lines[i].match(pattern);
    if (m) items.push(ordered ? m[2] : m[1]);
    else if (FENCE.test(lines[i]) || HEADING.test(lines[i])) break;
    else items[items.length - 1] += `\n${lines[i].trim()}`;
  }
  const first = ordered ? Number(lines[start].match(pattern)[1]) : 1;
  const tag = ordered ? 'ol' : 'ul';
  const startAttr = ordered && first !== 1 ? ` start="${first}"` : '';
  return { html: `<${tag}${startAttr}>${items.map((t) => `<li>${renderInline(t)}</li>`).join('')}</${tag}>`, next: i };
}

function isBlockStart(line) {
  return FENCE.test(line) || HEADING.test(line) || BULLET.test(line) || NUMBERED.test(line) || QUOTE.test(line);
}

export function renderMarkdown(source) {
  const lines = String(source).replace(/\u0000/g, '').replace(/\r\n?/g, '\n').split('\n');
  const blocks = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === '') { i++; continue; }
    const fence = line.match(FENCE);
    if (fence) {
      const body = [];
      const closing = new RegExp(`^ {0,3}${fence[1][0] === '`' ? '`' : '~'}{${fence[1].length},}\\s*$`);
      for (i++; i < lines.length && !closing.test(lines[i]); i++) body.push(lines[i]);
      blocks.push(renderCodeBlock(body, fence[2]));
      i++;
      continue;
    }
    const heading = line.match(HEADING);
    if (heading) {
      const level = heading[1].length;
      blocks.push(`<h${level}>${renderInline(heading[2])}</h${level}>`);
      i++;
      continue;
    }
    if (BULLET.test(line) || NUMBERED.test(line)) {
      const ordered = !BULLET.test(line);
      const list = renderList(lines, i, ordered ? NUMBERED : BULLET, ordered);
      blocks.push(list.html);
      i = list.next;
      continue;
    }
    if (QUOTE.test(line)) {
      const quoted = [];
      for (; i < lines.length && QUOTE.test(lines[i]); i++) quoted.push(lines[i].match(QUOTE)[1]);
      blocks.push(`<blockquote>${renderMarkdown(quoted.join('\n'))}</blockquote>`);
      continue;
    }
    const paragraph = [line];
    for (i++; i < lines.length && lines[i].trim() !== '' && !isBlockStart(lines[i]); i++) paragraph.push(lines[i]);
    blocks.push(`<p>${renderInline(paragraph.join('\n'))}</p>`);
  }
  return blocks.join('\n');
}
