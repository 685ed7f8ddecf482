// The chat page: conversations in the sidebar, the selected one in the middle, a streamed answer per message.
// State lives in ChatStore (localStorage); the DOM is redrawn from it. While an answer streams, body[data-state]
// is "streaming" and the Stop button aborts the fetch, which the server sees as a disconnect.
import { ApiError, listModels, streamChat } from './chat_api.mjs';
import { renderMarkdown } from './markdown.mjs';
import { ChatStore } from './store.mjs';

const $ = (id) => document.getElementById(id);
const store = new ChatStore(window.localStorage);
let currentId = null;
let abortController = null;
// What to retry once the user has entered an API key after a 401.
let retryAfterKey = null;

// ---- settings -----------------------------------------------------------------------------------------------

const settingInputs = { systemPrompt: 'system-prompt', temperature: 'temperature', topP: 'top-p', maxTokens: 'max-tokens' };

function loadSettings() {
  const settings = store.settings();
  for (const [key, id] of Object.entries(settingInputs)) $(id).value = settings[key];
}

function readSettings() {
  const number = (id, fallback) => (Number.isFinite($(id).valueAsNumber) ? $(id).valueAsNumber : fallback);
  return {
    systemPrompt: $('system-prompt').value,
    temperature: number('temperature', 0.7),
    topP: number('top-p', 1),
    maxTokens: Math.max(1, Math.round(number('max-tokens', 256))),
    model: $('model').value,
  };
}

// ---- errors and the API key ---------------------------------------------------------------------------------

function showError(message) {
  $('error').textContent = message;
  $('error').hidden = !message;
}

function askForApiKey(retry) {
  retryAfterKey = retry;
  $('api-key').value = store.apiKey();
  if (!$('api-key-dialog').open) {
    // Escape closes without setting returnValue, so a stale "save" from last time must not survive.
    $('api-key-dialog').returnValue = '';
    $('api-key-dialog').showModal();
  }
  $('api-key').focus();
}

// Shows a failure plainly; a 401 opens the key dialog and retries `retry` once a key is saved.
function handleFailure(error, retry) {
  if (error instanceof ApiError && error.status) {
    showError(`The server refused the request (${error.status}): ${error.message}`);
    if (error.status === 401) askForApiKey(retry);
  } else {
    showError(error.message);
  }
}

// ---- models -------------------------------------------------------------------------------------------------

// Fills the model picker; false when the server refused (the failure is shown).
async function loadModels() {
  try {
    const models = await listModels(store.apiKey());
    const select = $('model');
    const wanted = store.settings().model;
    select.replaceChildren(...models.map((m) => {
      const option = document.createElement('option');
      option.value = m.id;
      option.textContent = m.parent ? `${m.id} (LoRA adapter of ${m.parent})` : m.id;
      return option;
    }));
    if (models.some((m) => m.id === wanted)) select.value = wanted;
    showError('');
    return true;
  } catch (error) {
    handleFailure(error, loadModels);
    return false;
  }
}

// ---- drawing ------------------------------------------------------------------------------------------------

function statsText(stats) {
  if (!stats) return '';
  const parts = [`${stats.tokens} tokens`];
  if (stats.tokensPerSecond > 0) parts.push(`${stats.tokensPerSecond.toFixed(1)} tokens/s`);
  if (stats.finishReason === 'abort') parts.push('stopped');
  else if (stats.finishReason === 'length') parts.push('max tokens reached');
  return parts.join(' · ');
}

function messageElement(message) {
  const element = document.createElement('article');
  element.className = `message ${message.role}`;
  const body = document.createElement('div');
  body.className = 'content';
  if (message.role === 'assistant') body.innerHTML = renderMarkdown(message.content);
  else body.textContent = message.content;
  const stats = document.createElement('div');
  stats.className = 'stats';
  stats.textContent = statsText(message.stats);
  element.append(body, stats);
  return element;
}

function drawMessages() {
  const conversation = store.get(currentId);
  $('messages').replaceChildren(...(conversation ? conversation.messages.map(messageElement) : []));
  $('messages').scrollTop = $('messages').scrollHeight;
}

function startRename(item, conversation) {
  const input = document.createElement('input');
  input.className = 'rename';
  input.value = conversation.title;
  input.setAttribute('aria-label', 'Conversation title');
  let isDone = false;  // redrawing removes the input, which may fire blur after Enter or Escape
  const finish = (save) => {
    if (isDone) return;
    isDone = true;
    if (save) store.rename(conversation.id, input.value);
    drawConversations();
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') finish(true);
    if (e.key === 'Escape') finish(false);
  });
  input.addEventListener('blur', () => finish(true));
  item.querySelector('.title').replaceWith(input);
  input.select();
}

function conversationItem(conversation) {
  const item = document.createElement('li');
  item.dataset.id = conversation.id;
  item.classList.toggle('current', conversation.id === currentId);
  const title = document.createElement('button');
  title.type = 'button';
  title.className = 'title';
  title.textContent = conversation.title;
  title.addEventListener('click', () => select(conversation.id));
  const rename = document.createElement('button');
  rename.type = 'button';
  rename.className = 'rename-button';
  rename.title = 'Rename';
  rename.textContent = '✎';
  rename.addEventListener('click', () => startRename(item, conversation));
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'delete-button';
  remove.title = 'Delete';
  remove.textContent = '×';
  remove.addEventListener('click', () => deleteConversation(conversation.id));
  item.append(title, rename, remove);
  return item;
}

function drawConversations() {
  $('conversations').replaceChildren(...store.sorted().map(conversationItem));
}

function select(id) {
  if (abortController) return;  // one answer at a time; stop it first
  currentId = id;
  showError('');
  drawConversations();
  drawMessages();
}

function deleteConversation(id) {
  if (abortController) return;
  store.remove(id);
  if (id === currentId) currentId = store.sorted()[0]?.id ?? null;
  drawConversations();
  drawMessages();
}

// ---- generating ---------------------------------------------------------------------------------------------

function setStreaming(isStreaming) {
  document.body.dataset.state = isStreaming ? 'streaming' : 'idle';
  $('send').hidden = isStreaming;
  $('stop').hidden = !isStreaming;
}

function requestMessages(conversation, settings) {
  const messages = conversation.messages.map((m) => ({ role: m.role, content: m.content }));
  if (settings.systemPrompt.trim()) messages.unshift({ role: 'system', content: settings.systemPrompt });
  return messages;
}

// Streams an answer to the conversation's last (user) message into a new assistant message.
async function generate() {
  const conversation = store.get(currentId);
  const settings = readSettings();
  store.saveSettings(settings);
  showError('');
  const answer = { role: 'assistant', content: '', stats: null };
  const element = messageElement(answer);
  element.dataset.streaming = 'true';
  $('messages').append(element);
  abortController = new AbortController();
  setStreaming(true);
  const started = performance.now();
  let firstTokenAt = 0;
  let tokens = 0;
  let finishReason = 'abort';
  const updateStats = () => {
    const seconds = (performance.now() - (tokens > 1 ? firstTokenAt : started)) / 1000;
    const perSecond = tokens > 1 ? (tokens - 1) / seconds : tokens / seconds;
    answer.stats = { tokens, tokensPerSecond: seconds > 0 ? perSecond : 0, finishReason };
  };
  try {
    const result = await streamChat({
      apiKey: store.apiKey(),
      signal: abortController.signal,
      body: {
        model: settings.model || undefined,
        messages: requestMessages(conversation, settings),
        temperature: settings.temperature,
        top_p: settings.topP,
        max_tokens: settings.maxTokens,
      },
      onDelta(text, usage) {
        if (!firstTokenAt) firstTokenAt = performance.now();
        tokens = usage?.completion_tokens ?? tokens + 1;
        answer.content += text;
        finishReason = null;
        updateStats();
        element.querySelector('.content').innerHTML = renderMarkdown(answer.content);
        element.querySelector('.stats').textContent = statsText(answer.stats);
        $('messages').scrollTop = $('messages').scrollHeight;
      },
    });
    finishReason = result.finishReason;
    if (result.usage) tokens = result.usage.completion_tokens;
  } catch (error) {
    finishReason = 'abort';
    if (error.name !== 'AbortError') {
      element.remove();
      abortController = null;
      setStreaming(false);
      // After a 401 the model list failed too; with a key, fill it first, then ask again.
      handleFailure(error, async () => { if (await loadModels()) generate(); });
      return;
    }
  }
  updateStats();
  if (answer.content) store.append(conversation.id, answer);
  abortController = null;
  setStreaming(false);
  drawConversations();
  drawMessages();
}

function sendMessage() {
  const text = $('prompt').value;
  if (!text.trim() || abortController) return;
  if (!store.get(currentId)) currentId = store.create().id;
  store.append(currentId, { role: 'user', content: text });
  $('prompt').value = '';
  drawConversations();
  drawMessages();
  generate();
}

// ---- wiring -------------------------------------------------------------------------------------------------

function wire() {
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    sendMessage();
  });
  $('prompt').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendMessage();
    }
  });
  $('stop').addEventListener('click', () => abortController?.abort());
  $('new-chat').addEventListener('click', () => {
    if (abortController) return;
    select(store.create().id);
    $('prompt').focus();
  });
  $('toggle-settings').addEventListener('click', () => {
    const isOpen = $('settings').hidden;
    $('settings').hidden = !isOpen;
    $('toggle-settings').setAttribute('aria-expanded', String(isOpen));
  });
  for (const id of [...Object.values(settingInputs), 'model']) {
    $(id).addEventListener('change', () => store.saveSettings(readSettings()));
  }
  $('change-api-key').addEventListener('click', () => askForApiKey(loadModels));
  $('cancel-api-key').addEventListener('click', () => $('api-key-dialog').close('cancel'));
  $('api-key-dialog').addEventListener('close', () => {
    if ($('api-key-dialog').returnValue !== 'save') return;
    store.saveApiKey($('api-key').value.trim());
    const retry = retryAfterKey;
    retryAfterKey = null;
    if (retry) retry();
  });
}

wire();
loadSettings();
setStreaming(false);
currentId = store.sorted()[0]?.id ?? null;
drawConversations();
drawMessages();
loadModels();
