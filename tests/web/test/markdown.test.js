// The chat page's Markdown renderer (web/markdown.mjs) in Node: exact HTML for each construct, and no way for model
// output to inject markup.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeHtml, renderMarkdown } from '../../../web/markdown.mjs';

test('escapes HTML before adding any markup', () => {
  assert.equal(renderMarkdown('<script>alert("x")</script> & <b>'),
    '<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;</p>');
  assert.equal(escapeHtml(`<a href='x'>`), '&lt;a href=&#39;x&#39;&gt;');
});

test('fenced code keeps its text verbatim, with the language as a class', () => {
  assert.equal(renderMarkdown('Run:\n```python\nif a < b and c:\n    print("*x*")\n```\nDone.'),
    '<p>Run:</p>\n<pre><code class="language-python">if a &lt; b and c:\n    print(&quot;*x*&quot;)</code></pre>\n' +
    '<p>Done.</p>');
});

test('an unclosed fence (a streaming answer) is code to the end', () => {
  assert.equal(renderMarkdown('```\nint main() {\n  return 0;'),
    '<pre><code>int main() {\n  return 0;</code></pre>');
});

test('inline code, bold and italic', () => {
  assert.equal(renderMarkdown('Use `a*b` with **bold**, *it* and _it_ but not snake_case_name or 2*3*4.'),
    '<p>Use <code>a*b</code> with <strong>bold</strong>, <em>it</em> and <em>it</em> but not snake_case_name or ' +
    '2*3*4.</p>');
  assert.equal(renderMarkdown('``a ` b``'), '<p><code>a ` b</code></p>');
});

test('lists: bulleted, numbered with their start, continuation lines', () => {
  assert.equal(renderMarkdown('Steps:\n- one\n- **two**\n  more\n\n3. c\n4. d'),
    '<p>Steps:</p>\n<ul><li>one</li><li><strong>two</strong><br>more</li></ul>\n<ol start="3"><li>c</li><li>d</li></ol>');
});

test('paragraphs, line breaks, headings and quotes', () => {
  assert.equal(renderMarkdown('# Title\nline one\nline two\n\n> quoted *text*\n\nend'),
    '<h1>Title</h1>\n<p>line one<br>line two</p>\n<blockquote><p>quoted <em>text</em></p></blockquote>\n<p>end</p>');
});

test('links: http(s) only, and emphasis never reaches inside the href', () => {
  assert.equal(renderMarkdown('[docs](https://example.com/_a_?x=1&y=2)'),
    '<p><a href="https://example.com/_a_?x=1&amp;y=2" target="_blank" rel="noopener noreferrer">docs</a></p>');
  assert.equal(renderMarkdown('[x](javascript:alert(1))'), '<p>[x](javascript:alert(1))</p>');
  assert.equal(renderMarkdown('[x](https://a.b/"onmouseover="alert(1))'),
    '<p>[x](https://a.b/&quot;onmouseover=&quot;alert(1))</p>');
});
