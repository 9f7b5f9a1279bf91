// Drives llmq's OpenAI-compatible API with the official `openai` npm package, unchanged but for the
// base URL: lists models, makes a non-streaming and a streaming chat completion, provokes an error,
// and prints what it saw as one JSON object. Run by llmq.ingest.PipelineIT:
//   node chat.mjs <base URL ending in /v1> <API key> <model>
import OpenAI from 'openai';

const [baseURL, apiKey, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60_000,
  defaultHeaders: { 'X-LLMQ-Priority': 'high' } });
const out = {};

const models = await client.models.list();
out.models = models.data.map((m) => m.id);

const c = await client.chat.completions.create({
  model,
  messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say hello from node' }],
  max_tokens: 32,
});
out.completion = {
  id: c.id, object: c.object, model: c.model, content: c.choices[0].message.content,
  role: c.choices[0].message.role, finish_reason: c.choices[0].finish_reason, usage: c.usage,
};

// `priority` is llmq's extra body field (the SDK passes unknown parameters through); the default
// X-LLMQ-Priority header is dropped for this call, since the header would win
const stream = await client.chat.completions.create({
  model,
  messages: [{ role: 'user', content: 'Stream to node' }],
  stream: true,
  stream_options: { include_usage: true },
  priority: 'low',
}, { headers: { 'X-LLMQ-Priority': null } });
let content = '';
let chunks = 0;
let finish = null;
let usage = null;
let id = null;
let role = null;
for await (const chunk of stream) {
  chunks += 1;
  id = chunk.id;
  if (chunk.usage) usage = chunk.usage;
  for (const choice of chunk.choices) {
    if (choice.delta?.role) role = choice.delta.role;
    if (choice.delta?.content) content += choice.delta.content;
    if (choice.finish_reason) finish = choice.finish_reason;
  }
}
out.stream = { id, role, content, chunks, finish_reason: finish, usage };

try {
  await client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] });
  out.error = null;
} catch (e) {
  out.error = { status: e.status, name: e.constructor.name, type: e.type ?? null, param: e.param ?? null, message: e.message };
}

console.log(JSON.stringify(out));
