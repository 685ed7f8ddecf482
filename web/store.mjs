// What the page keeps in the browser (localStorage): the conversations, the settings and the API key. Nothing is
// stored on the server. `storage` is any object with getItem/setItem/removeItem (localStorage in the page, a Map
// wrapper in tests).
//
// A conversation: {id, title, messages: [{role: 'user'|'assistant', content, stats?}], updatedAt}; stats of an
// answer: {tokens, tokensPerSecond, finishReason}. Conversations are listed most recently updated first.

const CONVERSATIONS = 'pagedllm.conversations';
const SETTINGS = 'pagedllm.settings';
const API_KEY = 'pagedllm.apiKey';

export const DEFAULT_SETTINGS = { systemPrompt: '', temperature: 0.7, topP: 1, maxTokens: 256, model: '' };

function readJson(storage, key, fallback) {
  try {
    const value = JSON.parse(storage.getItem(key));
    return value ?? fallback;
  } catch {
    return fallback;  // a corrupt entry must not lock the user out of the page
  }
}

// The title of a new conversation once its first message is known: that message's first line, shortened.
export function titleFrom(text) {
  const line = text.trim().split('\n')[0];
  return line.length > 40 ? `${line.slice(0, 39)}…` : line || 'New chat';
}

export class ChatStore {
  constructor(storage) {
    this.storage = storage;
    this.conversations = readJson(storage, CONVERSATIONS, []);
  }

  save() { this.storage.setItem(CONVERSATIONS, JSON.stringify(this.conversations)); }

  sorted() { return [...this.conversations].sort((a, b) => b.updatedAt - a.updatedAt); }
  get(id) { return this.conversations.find((c) => c.id === id) ?? null; }

  create() {
    const conversation = {
      id: `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
      title: 'New chat',
      messages: [],
      updatedAt: Date.now(),
    };
    this.conversations.push(conversation);
    this.save();
    return conversation;
  }

  rename(id, title) {
    const conversation = this.get(id);
    if (!conversation || !title.trim()) return;
    conversation.title = title.trim();
    this.save();
  }

  remove(id) {
    this.conversations = this.conversations.filter((c) => c.id !== id);
    this.save();
  }

  // Appends a message; the first user message names a conversation still called "New chat".
  append(id, message) {
    const conversation = this.get(id);
    if (conversation.messages.length === 0 && message.role === 'user' && conversation.title === 'New chat') {
      conversation.title = titleFrom(message.content);
    }
    conversation.messages.push(message);
    conversation.updatedAt = Date.now();
    this.save();
  }

  settings() { return { ...DEFAULT_SETTINGS, ...readJson(this.storage, SETTINGS, {}) }; }
  saveSettings(settings) { this.storage.setItem(SETTINGS, JSON.stringify(settings)); }

  apiKey() { return this.storage.getItem(API_KEY) ?? ''; }
  saveApiKey(key) {
    if (key) this.storage.setItem(API_KEY, key);
    else this.storage.removeItem(API_KEY);
  }
}
