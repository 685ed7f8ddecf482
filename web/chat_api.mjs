// The page's client of the server's OpenAI API: the model list and streamed chat completions over fetch, on the
// page's own origin. Failures throw ApiError with the server's status and message, so the page can show them
// plainly (and ask for a key on 401).

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;  // HTTP status; 0 when the server could not be reached
  }
}

function headers(apiKey) {
  const h = { 'Content-Type': 'application/json' };
  if (apiKey) h.Authorization = `Bearer ${apiKey}`;
  return h;
}

// The message of an error body in OpenAI's shape, else the status line.
async function errorFrom(response) {
  const text = await response.text();
  try {
    const message = JSON.parse(text)?.error?.message;
    if (message) return new ApiError(response.status, message);
  } catch { /* not JSON */ }
  return new ApiError(response.status, `${response.status} ${response.statusText}${text ? `: ${text}` : ''}`);
}

async function send(path, init) {
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, `Cannot reach the server: ${e.message}`);
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

// [{id, parent}] from GET /v1/models: the base model (parent null) and the LoRA adapters (parent = base).
export async function listModels(apiKey) {
  const body = await (await send('/v1/models', { headers: headers(apiKey) })).json();
  return body.data.map((m) => ({ id: m.id, parent: m.parent ?? null }));
}

// Splits an SSE byte stream into `data:` payloads; feed() returns the payloads completed by a chunk of text.
export class SseParser {
  constructor() { this.buffer = ''; }
  feed(text) {
    this.buffer += text.replace(/\r\n?/g, '\n');
    const payloads = [];
    let end;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const event = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, ''));
      if (data.length) payloads.push(data.join('\n'));
    }
    return payloads;
  }
}

// Streams one chat completion. onDelta(text, usage) is called for each piece of content (usage: the running
// {completion_tokens, ...} when the server sends it). Resolves to {finishReason, usage}. Aborting `signal` ends
// the request (the server sees the disconnect and aborts generation) and rejects with an AbortError.
export async function streamChat({ apiKey, body, signal, onDelta }) {
  const response = await send('/v1/chat/completions', {
    method: 'POST',
    headers: headers(apiKey),
    body: JSON.stringify({
      ...body, stream: true, stream_options: { include_usage: true, continuous_usage_stats: true },
    }),
    signal,
  });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  let finishReason = null;
  let usage = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    for (const payload of parser.feed(value)) {
      if (payload === '[DONE]') return { finishReason, usage };
      const chunk = JSON.parse(payload);
      if (chunk.error) throw new ApiError(chunk.error.code ?? 500, chunk.error.message);
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices?.[0];
      if (choice?.finish_reason) finishReason = choice.finish_reason;
      const text = choice?.delta?.content;
      if (text) onDelta(text, usage);
    }
  }
  throw new ApiError(0, 'The stream ended without [DONE]');
}
